"""The classic CNN programs, written once and run on ember and on torch from the same starting weights and
batches: LeNet-5 with SGD and momentum, and the two-conv MNIST example with Adadelta and StepLR. Losses,
predictions and every weight must follow torch step by step."""

import numpy as np
import pytest
import torch
from helpers import to_np

import ember


def lenet(lib):
    """LeNet-5 for 28x28 digits: conv 5x5 -> pool -> conv 5x5 -> pool -> 120 -> 84 -> 10."""
    nn, F = lib.nn, lib.nn.functional

    class LeNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 6, 5)
            self.conv2 = nn.Conv2d(6, 16, 5)
            self.fc1 = nn.Linear(16 * 4 * 4, 120)
            self.fc2 = nn.Linear(120, 84)
            self.fc3 = nn.Linear(84, 10)

        def forward(self, x):
            x = F.max_pool2d(F.relu(self.conv1(x)), 2)
            x = F.max_pool2d(F.relu(self.conv2(x)), (2, 2))
            x = x.view(x.size(0), -1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    return LeNet()


def two_conv(lib):
    """The two-conv MNIST example: 32 and 64 channels of 3x3, max-pool, dropout, 9216-128-10, log_softmax."""
    nn, F = lib.nn, lib.nn.functional

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 32, 3, 1)
            self.conv2 = nn.Conv2d(32, 64, 3, 1)
            self.dropout1 = nn.Dropout(0.25)
            self.dropout2 = nn.Dropout(0.5)
            self.fc1 = nn.Linear(9216, 128)
            self.fc2 = nn.Linear(128, 10)

        def forward(self, x):
            x = F.relu(self.conv1(x))
            x = F.relu(self.conv2(x))
            x = F.max_pool2d(x, 2)
            x = self.dropout1(x)
            x = lib.flatten(x, 1)
            x = F.relu(self.fc1(x))
            x = self.dropout2(x)
            return F.log_softmax(self.fc2(x), dim=1)

    return Net()


def _same_start(build):
    """torch's model and an ember one holding the same weights."""
    torch.manual_seed(0)
    t_model = build(torch)
    e_model = build(ember)
    e_model.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in t_model.state_dict().items()})
    return e_model, t_model


def _batches(n_steps, batch):
    data = np.random.default_rng(3)
    return [
        (data.standard_normal((batch, 1, 28, 28)).astype(np.float32), data.integers(0, 10, batch))
        for _ in range(n_steps)
    ]


def _train(lib, model, make_optimizer, loss_name, batches, scheduler=None):
    """The tutorial loop; returns each step's loss and the final weights."""
    opt = make_optimizer(lib, model)
    sched = scheduler(lib, opt) if scheduler else None
    loss_fn = getattr(lib.nn.functional, loss_name)
    losses = []
    model.train()
    for x, y in batches:
        opt.zero_grad()
        loss = loss_fn(model(lib.tensor(x)), lib.tensor(y))
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        losses.append(loss.item())
    return losses, {k: to_np(v) for k, v in model.state_dict().items()}


def _compare(e_run, t_run, rtol):
    (e_losses, e_weights), (t_losses, t_weights) = e_run, t_run
    np.testing.assert_allclose(e_losses, t_losses, rtol=rtol)
    for k in t_weights:
        np.testing.assert_allclose(e_weights[k], t_weights[k], rtol=rtol, atol=rtol, err_msg=k)


def test_lenet_trains_like_torch_step_by_step(conv_layout):
    e_model, t_model = _same_start(lenet)
    batches = _batches(2, 16) * 3  # two batches, three times each

    def sgd(lib, model):
        return lib.optim.SGD(model.parameters(), lr=0.02, momentum=0.5)

    runs = [_train(lib, m, sgd, "cross_entropy", batches) for lib, m in ((ember, e_model), (torch, t_model))]
    _compare(*runs, rtol=2e-4)
    losses = runs[0][0]
    assert losses[4] < losses[0] and losses[5] < losses[1]  # each batch's loss fell between its visits


def test_two_conv_example_trains_like_torch_step_by_step(conv_layout):
    e_model, t_model = _same_start(two_conv)
    for m in (e_model, t_model):  # dropout masks come from each library's own generator
        m.dropout1.p = m.dropout2.p = 0.0
    batches = _batches(4, 8)

    def adadelta(lib, model):
        return lib.optim.Adadelta(model.parameters(), lr=1.0)

    def step_lr(lib, opt):
        return lib.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)

    runs = [_train(lib, m, adadelta, "nll_loss", batches, step_lr) for lib, m in ((ember, e_model), (torch, t_model))]
    _compare(*runs, rtol=2e-4)


@pytest.mark.parametrize("build", [lenet, two_conv])
def test_inference_matches_torch(build, conv_layout):
    e_model, t_model = _same_start(build)
    x = np.random.default_rng(4).standard_normal((32, 1, 28, 28)).astype(np.float32)
    e_model.eval()
    t_model.eval()
    with ember.no_grad(), torch.no_grad():
        e_out, t_out = to_np(e_model(ember.tensor(x))), to_np(t_model(torch.tensor(x)))
    np.testing.assert_allclose(e_out, t_out, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(e_out.argmax(1), t_out.argmax(1))


def test_summary_of_lenet_matches_torchsummary_layout():
    text = ember.summary.summary_string(lenet(ember), (1, 28, 28))[0]
    assert "Conv2d-1" in text and "[-1, 6, 24, 24]" in text and "156" in text
    assert "Conv2d-2" in text and "[-1, 16, 8, 8]" in text and "2,416" in text
    assert "Total params: 44,426" in text
