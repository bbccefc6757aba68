"""summary() prints torchsummary's table; the expected text follows torchsummary 1.5.1's layout."""

import ember
from ember import nn
from ember.summary import summary, summary_string


class ThreeLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1 = nn.Linear(3, 3)
        self.linear2 = nn.Linear(3, 2)
        self.out = nn.Linear(2, 2)

    def forward(self, x):
        return ember.softmax(self.out(ember.relu(self.linear2(ember.sigmoid(self.linear1(x))))), dim=-1)


EXPECTED = """\
----------------------------------------------------------------
        Layer (type)               Output Shape         Param #
================================================================
            Linear-1                     [5, 3]              12
            Linear-2                     [5, 2]               8
            Linear-3                     [5, 2]               6
================================================================
Total params: 26
Trainable params: 26
Non-trainable params: 0
----------------------------------------------------------------
Input size (MB): 0.00
Forward/backward pass size (MB): 0.00
Params size (MB): 0.00
Estimated Total Size (MB): 0.00
----------------------------------------------------------------
"""


def test_matches_torchsummary_layout(capsys):
    summary(ThreeLayer(), input_size=(3,), batch_size=5)
    assert capsys.readouterr().out == EXPECTED


def test_sequential_mlp_sizes_and_frozen_params():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10))
    model[3].weight.requires_grad_(False)
    text, (total, trainable) = summary_string(model, (1, 28, 28))
    assert total == 784 * 200 + 200 + 200 * 10 + 10
    # torchsummary counts a layer as trainable by its weight alone.
    assert trainable == 784 * 200 + 200
    assert "           Flatten-1                  [-1, 784]               0" in text
    assert "            Linear-2                  [-1, 200]         157,000" in text
    assert "Params size (MB): 0.61" in text
    assert "Input size (MB): 0.00" in text


def test_hooks_are_removed_after_summary():
    model = nn.Sequential(nn.Linear(2, 2))
    summary_string(model, (2,))
    assert not model[0]._forward_hooks
