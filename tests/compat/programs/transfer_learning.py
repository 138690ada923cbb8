# Transfer learning as the tutorial writes it: a "pretrained" backbone frozen with
# requires_grad = False, a new head, an optimizer over the head's parameters only,
# lr_scheduler.StepLR, train/val phases with torch.set_grad_enabled, running statistics,
# best weights kept with copy.deepcopy, then fine-tuning everything with a smaller lr.
import copy
import time

import torch
import torch.nn as nn
import torch.optim as optim
from torch.optim import lr_scheduler
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
device = torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
backbone = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1),
    nn.BatchNorm2d(8),
    nn.ReLU(inplace=True),
    nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1),
    nn.BatchNorm2d(16),
    nn.ReLU(inplace=True),
    nn.AdaptiveAvgPool2d((1, 1)),
    nn.Flatten(),
)


class Model(nn.Module):
    def __init__(self, backbone):
        super().__init__()
        self.features = backbone
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        return self.fc(self.features(x))


model_conv = Model(backbone)
x_train, y_train = torch.randn(48, 3, 12, 12), torch.randint(0, 2, (48,))
x_val, y_val = torch.randn(16, 3, 12, 12), torch.randint(0, 2, (16,))
dataloaders = {
    "train": DataLoader(TensorDataset(x_train, y_train), batch_size=8, shuffle=True),
    "val": DataLoader(TensorDataset(x_val, y_val), batch_size=8),
}
dataset_sizes = {"train": 48, "val": 16}
class_names = ["ants", "bees"]
for param in model_conv.parameters():
    param.requires_grad = False
num_ftrs = model_conv.fc.in_features
model_conv.fc = nn.Linear(num_ftrs, len(class_names))
model_conv = model_conv.to(device)
print(model_conv.fc, num_ftrs)
print(sum(p.numel() for p in model_conv.parameters() if p.requires_grad), "trainable")
print([n for n, p in model_conv.named_parameters() if p.requires_grad])
criterion = nn.CrossEntropyLoss()
optimizer_conv = optim.SGD(model_conv.fc.parameters(), lr=0.01, momentum=0.9)
exp_lr_scheduler = lr_scheduler.StepLR(optimizer_conv, step_size=2, gamma=0.1)


def train_model(model, criterion, optimizer, scheduler, num_epochs=25):
    since = time.time()
    best_model_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    for epoch in range(num_epochs):
        print(f"Epoch {epoch}/{num_epochs - 1}")
        print("-" * 10)
        for phase in ["train", "val"]:
            if phase == "train":
                model.train()
            else:
                model.eval()
            running_loss = 0.0
            running_corrects = 0
            for inputs, labels in dataloaders[phase]:
                inputs = inputs.to(device)
                labels = labels.to(device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    _, preds = torch.max(outputs, 1)
                    loss = criterion(outputs, labels)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += torch.sum(preds == labels.data)
            if phase == "train":
                scheduler.step()
            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects.double() / dataset_sizes[phase]
            print(f"{phase} Loss: {epoch_loss:.4f} Acc: {epoch_acc:.4f}")
            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_model_wts = copy.deepcopy(model.state_dict())
        print()
    time_elapsed = time.time() - since
    print(f"Training complete in {time_elapsed // 60:.0f}m {0:.0f}s")
    print(f"Best val Acc: {best_acc:4f}")
    model.load_state_dict(best_model_wts)
    return model


model_conv = train_model(model_conv, criterion, optimizer_conv, exp_lr_scheduler, num_epochs=3)
print(exp_lr_scheduler.get_last_lr(), optimizer_conv.param_groups[0]["lr"])
print(model_conv.features[1].running_mean)
for param in model_conv.parameters():
    param.requires_grad = True
optimizer_ft = optim.SGD(
    [
        {"params": model_conv.features.parameters(), "lr": 1e-4},
        {"params": model_conv.fc.parameters()},
    ],
    lr=1e-3,
    momentum=0.9,
)
print(optimizer_ft)
model_conv = train_model(
    model_conv, criterion, optimizer_ft, lr_scheduler.StepLR(optimizer_ft, 1, 0.5), num_epochs=2
)
print(
    model_conv.features[0].weight.grad,
    len(optimizer_ft.state),
    [g["lr"] for g in optimizer_ft.param_groups],
)
