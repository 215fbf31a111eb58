"""The torch modules: activations, blocks, initialisation, dropout, input standardisation."""

import copy

import numpy as np
import pytest
import torch

from skmlp import MLPAutoencoder, MLPClassifier, MLPRegressor
from skmlp._runtime import seeded
from skmlp.modules import ACTIVATIONS, MLP, Dropout, Standardize


@pytest.mark.parametrize("Estimator, method", [
    (MLPClassifier, "predict_proba"), (MLPClassifier, "decision_function"),
    (MLPRegressor, "predict"), (MLPAutoencoder, "score_samples"), (MLPAutoencoder, "transform"),
])
def test_a_row_gets_the_same_output_alone_as_in_a_batch_to_float32_precision(
        Estimator, method, data):
    # scikit-learn's check_methods_subset_invariance asks for float64's 1e-7
    # (waived in test_common): a float32 product of one row and of many sums in
    # different orders
    X, y = data
    params = {"latent_dim": 2} if Estimator is MLPAutoencoder else {}
    est = Estimator(hidden_layer_sizes=(64, 64), batch_norm=True, max_iter=5,
                    random_state=0, **params).fit(X, y)
    whole = getattr(est, method)(X)
    rows = np.concatenate([getattr(est, method)(X[[i]]) for i in range(len(X))])
    subset = getattr(est, method)(X[::3])
    np.testing.assert_allclose(rows, whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(subset, whole[::3], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_trains(activation, data):
    X, y = data
    clf = MLPClassifier(activation=activation, max_iter=30, random_state=0).fit(X, y)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    expected = ACTIVATIONS[activation]
    assert any(isinstance(m, expected) for m in clf.net_.module_.modules())


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("batch_norm", [False, True])
def test_in_place_activations_give_the_gradients_of_out_of_place_ones(activation,
                                                                      batch_norm):
    torch.manual_seed(0)
    net = MLP(5, 3, (8, 8), activation, (0.0, 0.0), batch_norm)
    reference = copy.deepcopy(net)
    for layer in reference.modules():
        if hasattr(layer, "inplace"):
            layer.inplace = False
    X = torch.randn(16, 5)
    for module in (net, reference):
        module(X).square().sum().backward()
    for param, expected in zip(net.parameters(), reference.parameters(), strict=True):
        # ELU and SELU differentiate from their output in place: rounding apart
        torch.testing.assert_close(param.grad, expected.grad)


def test_dropout_and_batch_norm_build_the_blocks_asked_for(data):
    X, y = data
    clf = MLPClassifier(hidden_layer_sizes=(8, 8, 8), dropout=[0.1, 0.0, 0.3],
                        batch_norm=True, max_iter=1).fit(X, y)
    kinds = [type(m).__name__ for m in clf.net_.module_.layers]
    assert kinds == ["Linear", "BatchNorm1d", "ReLU", "Dropout",
                     "Linear", "BatchNorm1d", "ReLU",
                     "Linear", "BatchNorm1d", "ReLU", "Dropout", "Linear"]
    rates = [m.p for m in clf.net_.module_.layers if isinstance(m, torch.nn.Dropout)]
    assert rates == [0.1, 0.3]


@pytest.mark.parametrize("activation, factor", [("relu", 6.0), ("logistic", 2.0)])
def test_classifier_starts_from_scikit_learns_initialisation(activation, factor, data):
    X, y = data
    # one epoch at a negligible step size leaves the initial weights in place
    clf = MLPClassifier(hidden_layer_sizes=(300,), activation=activation,
                        learning_rate_init=1e-12, max_iter=1, random_state=0).fit(X, y)
    first, output = [m for m in clf.net_.module_.modules() if isinstance(m, torch.nn.Linear)]
    for layer in (first, output):
        bound = np.sqrt(factor / (layer.in_features + layer.out_features))
        assert layer.bias.abs().max() <= bound
        # at least 300 uniform draws: the largest comes within 5% of the bound
        assert 0.95 * bound < layer.weight.abs().max() <= bound


def test_regressor_and_modules_keep_torchs_initialisation():
    torch.manual_seed(0)
    layer = MLP(6, 1, (300,), "relu", (0.0,), False).layers[0]
    bound = 1 / np.sqrt(layer.in_features)  # torch's U(+-1/sqrt(fan_in))
    assert 0.95 * bound < layer.weight.abs().max() <= bound


@pytest.mark.parametrize("p", [0.1, 0.5])
def test_cpu_dropout_drops_a_share_p_keeps_the_mean_and_is_identity_in_eval(p):
    layer = Dropout(p)
    x = torch.full((400, 500), 2.0, requires_grad=True)
    with seeded(0, "cpu"):
        out = layer(x)
    dropped = (out == 0).float().mean().item()
    assert dropped == pytest.approx(p, abs=0.005)
    assert out.mean().item() == pytest.approx(2.0, rel=0.02)
    assert torch.unique(out).tolist() == pytest.approx([0.0, 2.0 / (1 - p)])
    out.sum().backward()
    torch.testing.assert_close(x.grad, (out != 0).float() / (1 - p))
    layer.eval()
    assert layer(x) is x


def test_standardize_leaves_sparse_batches_sparse_until_it_has_statistics():
    dense = torch.tensor([[0.0, 2.0], [4.0, 0.0]])
    batch = dense.to_sparse_csr()
    layer = Standardize(2)
    assert layer(batch) is batch  # identity statistics: sparse training data
    layer.fit_statistics(mean=[1.0, 1.0], scale=[2.0, 4.0])
    torch.testing.assert_close(layer(batch), torch.tensor([[-0.5, 0.25], [1.5, -0.25]]))


def test_standardize_leaves_a_column_float32_cannot_scale_as_it_is():
    layer = Standardize(3).fit_statistics(mean=[0.0, 1e-39, 2.0], scale=[1e-40, 1e-40, 4.0])
    torch.testing.assert_close(layer.factor, torch.tensor([1.0, 1.0, 0.25]))
    torch.testing.assert_close(layer.offset, torch.tensor([0.0, 0.0, -0.5]))


def test_a_column_of_tiny_values_does_not_break_training():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.rand(200) * 1e-39, rng.rand(200) * 1e-20, rng.rand(200)])
    y = (X[:, 2] > 0.5).astype(int)
    model = MLPClassifier(max_iter=20, random_state=0).fit(X, y)
    assert np.isfinite(model.loss_curve_).all() and model.score(X, y) > 0.8
