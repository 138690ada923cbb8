# PyTorch's tensors tutorial (the parts that print shapes, dtypes and devices), then
# dtypes printed every other way programs print them.
import numpy as np
import torch

torch.manual_seed(0)
data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
print(x_data.dtype, x_np.dtype, x_data.dtype == x_np.dtype)

x_ones = torch.ones_like(x_data)
print(f"Ones Tensor: \n {x_ones} \n")
x_rand = torch.rand_like(x_data, dtype=torch.float)
print(f"Random Tensor: \n {x_rand} \n")

shape = (2, 3)
rand_tensor = torch.rand(shape)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)
print(f"Random Tensor: \n {rand_tensor} \n")
print(f"Ones Tensor: \n {ones_tensor} \n")
print(f"Zeros Tensor: \n {zeros_tensor}")

tensor = torch.rand(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")
print(tensor.shape, tensor.size(), tensor.size(1), [tensor.shape, tensor.dtype])

agg = tensor.sum()
agg_item = agg.item()
print(agg.dtype, type(agg_item))

# Every dtype and alias: str, repr, in containers, and the attributes programs read.
dtypes = [
    torch.float16, torch.float32, torch.float64, torch.int8, torch.int16, torch.int32,
    torch.int64, torch.uint8, torch.bool, torch.float, torch.double, torch.half,
    torch.long, torch.int, torch.short,
]  # fmt: skip
for dt in dtypes:
    print(dt, repr(dt), f"{dt}|{dt!r}", dt.is_floating_point, dt.is_signed, dt.itemsize)
print(dtypes)
print({dt: str(dt) for dt in dtypes[:3]}, (torch.bool,), {torch.int64})
print(isinstance(torch.float32, torch.dtype), isinstance(torch.ones(1).dtype, torch.dtype))
print(torch.float is torch.float32, torch.long is torch.int64, torch.double == torch.float64)

for dt in (torch.float16, torch.float64, torch.int32, torch.uint8, torch.bool):
    t = torch.zeros(2, dtype=dt)
    print(t.dtype, t.dtype is dt, t, t.to(torch.float32).dtype, t.shape)

print(torch.get_default_dtype())
torch.set_default_dtype(torch.float64)
print(torch.get_default_dtype(), torch.tensor([1.0]).dtype, torch.tensor([1.0]))
torch.set_default_dtype(torch.float32)
print(torch.get_default_dtype())
