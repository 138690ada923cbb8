# Device selection and the legacy tensor API, as tutorials write them.
import numpy as np
import torch
import torch.backends.cudnn as cudnn
from torch.autograd import Variable

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("Using device:", device)
print(repr(device), device.type, device.index)
if torch.backends.mps.is_available():
    device = torch.device("mps")
print("accelerator:", torch.accelerator.is_available(), "cuda devices:", torch.cuda.device_count())
torch.manual_seed(42)
torch.cuda.manual_seed(42)
torch.cuda.manual_seed_all(42)
torch.backends.cudnn.deterministic = True
cudnn.benchmark = False
print(
    "cudnn:",
    cudnn.is_available(),
    cudnn.enabled,
    cudnn.deterministic,
    torch.backends.cudnn.benchmark,
)
print(
    "mkldnn:", torch.backends.mkldnn.is_available(), "openmp:", torch.backends.openmp.is_available()
)
cuda0 = torch.device("cuda:0")
print(cuda0, repr(cuda0), torch.device("cuda", 1), torch.device("cpu") == torch.device("cpu"))
try:
    torch.zeros(2).to(cuda0)
except AssertionError:
    print("no CUDA here")

x = torch.FloatTensor(2, 3).zero_()
print(x, x.type(), x.shape)
y = torch.FloatTensor([[1, 2], [3, 4]])
print(y, y.type())
z = torch.LongTensor([1.7, 2.2, -3.9])
print(z, z.type())
print(torch.IntTensor([1, 2]).type(), torch.DoubleTensor([0.5]).type())
print(torch.ByteTensor([1, 255]), torch.BoolTensor([True, False]))
print(torch.Tensor(np.zeros(3)), torch.Tensor([1, 2]), torch.Tensor(2, 2).zero_())
print(isinstance(y, torch.FloatTensor), isinstance(z, torch.FloatTensor))
print(y.type(torch.DoubleTensor), y.type("torch.LongTensor"))
print(y.type() == "torch.FloatTensor")
v = Variable(torch.ones(2, 2), requires_grad=True)
w = (v * 3).sum()
w.backward()
print(v.grad, type(v) is torch.Tensor)
a = torch.ones(3).to(device)
print(a.device, a.cpu().numpy(), a.to("cpu", torch.float64))
