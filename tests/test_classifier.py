"""MLPClassifier: labels, probabilities, weighting, partial_fit and search."""

import numpy as np
import pandas as pd
import pytest
import torch
from imblearn.over_sampling import SMOTE
from imblearn.pipeline import Pipeline
from sklearn.compose import ColumnTransformer
from sklearn.datasets import make_blobs, make_classification, make_multilabel_classification
from sklearn.metrics import recall_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight

from skmlp import MLPClassifier
from skmlp.datasets import load_predictive_maintenance, load_yeast


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(n_samples=300, n_features=8, n_informative=5,
                               n_classes=3, random_state=0)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("labels", [
    np.array(["cat", "dog", "emu"]),
    np.array([10, 20, 30]),
    np.array([True, False]),
    np.array([-1.0, 2.0]),
])
def test_predict_returns_labels_of_the_given_type(blobs, labels):
    X, y = blobs
    y_given = labels[y % len(labels)]
    clf = MLPClassifier(max_iter=5, random_state=0).fit(X, y_given)
    y_pred = clf.predict(X)
    assert y_pred.dtype == y_given.dtype
    assert set(np.unique(y_pred)) <= set(labels)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_probabilities_are_consistent(blobs, n_classes):
    X, y = blobs
    y = y % n_classes
    clf = MLPClassifier(max_iter=20, random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), n_classes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), atol=1e-10)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    scores = clf.decision_function(X)
    if n_classes == 2:
        assert scores.shape == (len(X),)
        np.testing.assert_array_equal(clf.predict(X), clf.classes_[(scores > 0).astype(int)])
        assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    else:
        assert scores.shape == (len(X), n_classes)
        assert clf.out_activation_ == "softmax"


def test_multilabel_indicator_targets():
    X, Y = make_multilabel_classification(n_samples=200, n_features=6, n_classes=4,
                                          random_state=0)
    clf = MLPClassifier(max_iter=100, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(clf.classes_, np.arange(4))
    assert clf.predict(X).shape == Y.shape
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_array_equal(clf.predict(X), (proba > 0.5).astype(int))
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), atol=1e-10)
    assert clf.score(X, Y) > 0.3  # subset accuracy; chance is ~1/16


def test_multilabel_loss_sums_over_the_labels_as_scikit_learns():
    X, Y = make_multilabel_classification(n_samples=50, random_state=0)  # 5 labels
    # scikit-learn's own test: 100 calls of partial_fit with plain SGD learn the
    # labels (0.78 when the loss was the mean over labels, a fifth of the gradient)
    clf = MLPClassifier(solver="sgd", hidden_layer_sizes=50, activation="logistic",
                        alpha=1e-5, learning_rate_init=0.2, random_state=0)
    for _ in range(100):
        clf.partial_fit(X, Y, classes=range(5))
    assert clf.score(X, Y) > 0.9
    logits = torch.randn(50, 5, generator=torch.Generator().manual_seed(0))
    proba = torch.sigmoid(logits).double().numpy()
    per_sample = -np.sum(Y * np.log(proba) + (1 - Y) * np.log(1 - proba), axis=1)
    weight = np.linspace(0.5, 2.0, 50)
    for sample_weight, expected in [(None, per_sample.mean()),
                                    (weight, np.mean(weight * per_sample))]:
        loss = clf.net_.criterion_(logits, torch.as_tensor(Y, dtype=torch.float32),
                                   None if sample_weight is None
                                   else torch.as_tensor(sample_weight, dtype=torch.float32))
        assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_multilabel_partial_fit_takes_the_column_indices_as_classes():
    X, Y = make_multilabel_classification(n_samples=50, random_state=0)
    clf = MLPClassifier(max_iter=1).partial_fit(X, Y, classes=[0, 1, 2, 3, 4])
    np.testing.assert_array_equal(clf.classes_, np.arange(5))
    with pytest.raises(ValueError, match=r"indicator matrix of 5 columns, whose classes are "
                                         r"the column indices \[0, 1, 2, 3, 4\]; got "
                                         r"classes=\[0, 1, 2\]"):
        MLPClassifier().partial_fit(X, Y, classes=[0, 1, 2])


def test_multilabel_early_stopping_holds_out_rows_without_stratifying():
    X, Y = make_multilabel_classification(n_samples=200, n_features=6, n_classes=4,
                                          random_state=0)
    clf = MLPClassifier(early_stopping=True, max_iter=5, random_state=0).fit(X, Y)
    _, held_out = train_test_split(np.arange(len(X)), test_size=clf.validation_fraction,
                                   random_state=clf._seed)
    assert clf.validation_loss_curve_[-1] == clf.best_validation_loss_  # last weights kept
    assert clf.validation_scores_[-1] == pytest.approx(clf.score(X[held_out], Y[held_out]))


def test_several_multiclass_targets_point_to_multioutput_classifier():
    X = np.arange(40.0).reshape(20, 2)
    Y = np.c_[np.arange(20) % 3, np.arange(20) % 2]  # multiclass-multioutput
    with pytest.raises(ValueError, match="2 columns of classes.*MultiOutputClassifier"):
        MLPClassifier().fit(X, Y)


def test_binary_class_weight_equals_bce_pos_weight():
    """The weighted loss is BCEWithLogitsLoss(pos_weight) for {0: 1, 1: p}."""
    X, y = make_classification(n_samples=64, n_features=4, weights=[0.8], random_state=1)
    clf = MLPClassifier(class_weight={0: 1.0, 1: 3.5}, max_iter=1, random_state=0).fit(X, y)
    from skmlp._losses import combined_sample_weight

    weight = torch.as_tensor(combined_sample_weight(X, y, None, clf.class_weight),
                             dtype=torch.float32)
    logits = torch.randn(len(y), 1, generator=torch.Generator().manual_seed(0))
    target = torch.as_tensor(y, dtype=torch.float32).view(-1, 1)
    ours = clf.net_.criterion_(logits, target, weight)
    reference = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([3.5]))(logits, target)
    torch.testing.assert_close(ours, reference)


@pytest.mark.parametrize("weight", [-1.0, np.nan, np.inf])
def test_class_weights_must_be_finite_and_non_negative(blobs, weight):
    # as negative sample weights: a negative weight leaves the loss unbounded below
    X, y = blobs
    with pytest.raises(ValueError, match="class_weight must give every class a finite, "
                                         "non-negative weight"):
        MLPClassifier(class_weight={0: weight}, max_iter=1).fit(X, y)


def test_weights_that_zero_every_sample_are_rejected(blobs):
    X, y = blobs
    message = "sample_weight times class_weight is 0 for every sample"
    with pytest.raises(ValueError, match=message):
        MLPClassifier(class_weight=dict.fromkeys(range(3), 0.0), max_iter=1).fit(X, y)
    only_class_0 = (y == 0).astype(float)  # and class 0 weighted 0
    with pytest.raises(ValueError, match=message):
        MLPClassifier(class_weight={0: 0.0}, max_iter=1).fit(X, y, sample_weight=only_class_0)
    # a class weighted 0 among others trains on the rest
    assert MLPClassifier(class_weight={0: 0.0}, max_iter=1).fit(X, y).n_iter_ == 1


def test_multilabel_class_weight_is_one_dict_per_label():
    X, Y = make_multilabel_classification(n_samples=120, n_features=6, n_classes=3,
                                          random_state=0)
    per_label = [{0: 1.0, 1: 4.0}, {1: 2.0}, {0: 0.5}]
    # inputs as given: sample weights, unlike class weights, weigh the input statistics
    weighted = MLPClassifier(class_weight=per_label, standardize_inputs=False, max_iter=5,
                             random_state=0).fit(X, Y)
    # as in RandomForestClassifier: a sample weighs the product over its labels
    product = compute_sample_weight(per_label, Y)
    assert sorted(set(product)) == [0.5, 1.0, 2.0, 4.0, 8.0]
    by_hand = MLPClassifier(standardize_inputs=False, max_iter=5,
                            random_state=0).fit(X, Y, sample_weight=product)
    np.testing.assert_array_equal(weighted.predict_proba(X), by_hand.predict_proba(X))
    with pytest.raises(ValueError, match=r"multilabel y, class_weight takes one dict per "
                                         r"label \(3 dicts"):
        MLPClassifier(class_weight={0: 1.0, 1: 4.0}, max_iter=1).fit(X, Y)
    with pytest.raises(ValueError, match="class_weight is a list, which is for a multilabel y"):
        MLPClassifier(class_weight=per_label, max_iter=1).fit(X, Y[:, 0])


def test_balanced_class_weight_raises_minority_recall():
    X, y = load_predictive_maintenance(target="Target", return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0)
    encode = ColumnTransformer([("type", OneHotEncoder(), ["Type"])],
                               remainder=StandardScaler())
    X_train, X_test = encode.fit_transform(X_train), encode.transform(X_test)
    recalls = {}
    for class_weight in (None, "balanced"):
        clf = MLPClassifier(hidden_layer_sizes=(64,), class_weight=class_weight, max_iter=30,
                            random_state=0)
        clf.fit(X_train, y_train)
        recalls[class_weight] = recall_score(y_test, clf.predict(X_test))
    assert recalls["balanced"] > recalls[None] + 0.1, recalls


def test_single_class_is_rejected(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match=r"at least 2 classes.*only one class: 0\.0\.$"):
        MLPClassifier().fit(X, np.zeros(len(X)))


def test_too_small_class_for_validation_split_is_explained():
    X, y = load_yeast(return_X_y=True)  # class ERL has 5 samples
    y = y.copy()
    y.iloc[np.flatnonzero(y == "ERL")[1:]] = "CYT"
    with pytest.raises(ValueError, match="early_stopping=True.*least populated class"):
        MLPClassifier(early_stopping=True).fit(X, y)


def test_validation_split_is_stratified(blobs):
    X, y = blobs
    clf = MLPClassifier(early_stopping=True, validation_fraction=0.2, max_iter=2,
                        random_state=0)
    train, valid = clf.fit(X, y)._datasets(
        X, clf._encode_targets(y, reset=False), None, "cpu", split=True)
    counts = np.bincount(valid.y.numpy(), minlength=3)
    assert len(valid) == 60
    assert np.all(np.abs(counts - 0.2 * np.bincount(y)) <= 1), counts


@pytest.mark.parametrize("labels", [
    np.array(["a", "b", None, "a"], dtype=object),  # scikit-learn: TypeError from the sort
    pd.Series(["a", "b", None, "a"], dtype="string"),  # scikit-learn: "boolean value of NA"
    pd.Series(pd.Categorical(["a", "b", None, "a"])),
    ["a", "b", np.nan, "a"],
])
def test_missing_labels_are_named_at_fit_and_partial_fit(labels):
    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(ValueError, match="y has 1 missing labels"):
        MLPClassifier().fit(X, labels)
    with pytest.raises(ValueError, match="y has 1 missing labels"):
        MLPClassifier().partial_fit(X, labels, classes=["a", "b"])


@pytest.mark.parametrize("labels", [
    np.array(["a", 1, "b", 2], dtype=object),  # scikit-learn: "Unknown label type: unknown"
    pd.Series(["a", 1, "b", 2]),
    ["a", 1.5, "b", 2],
])
def test_labels_mixing_text_and_numbers_are_named_at_fit_and_partial_fit(labels):
    X = np.arange(8.0).reshape(4, 2)
    message = r"y mixes text labels \('a'\) with labels of another type \(1(\.5)?\)"
    with pytest.raises(ValueError, match=message):
        MLPClassifier().fit(X, labels)
    with pytest.raises(ValueError, match=message):
        MLPClassifier().partial_fit(X, labels, classes=["a", "b", 1, 2])


def test_partial_fit_needs_classes_and_rejects_unseen_labels(blobs):
    X, y = blobs
    clf = MLPClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1, 2, 3])
    clf.partial_fit(X[100:], y[100:])
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 2
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"labels \[7\]"):
        clf.partial_fit(X[:5], [0, 1, 7, 2, 2])
    clf.partial_fit(X[:5], y[:5], classes=[3, 2, 1, 0])  # the same classes again
    with pytest.raises(ValueError, match=r"classes=\[0, 1, 2, 7\] is not the same as on the "
                       r"first call.*classes_=\[0, 1, 2, 3\]"):
        clf.partial_fit(X[:5], y[:5], classes=[0, 1, 2, 7])
    assert len(clf.loss_curve_) == 3


def test_warm_start_goes_on_with_the_same_classes_only(blobs):
    # as scikit-learn: a warm-started fit needs every class of the first fit
    X, y = blobs
    clf = MLPClassifier(warm_start=True, max_iter=2, random_state=0).fit(X, y)
    clf.fit(X[::-1], y[::-1])
    assert len(clf.loss_curve_) == 4
    with pytest.raises(ValueError, match=r"y has \[0, 1\] where the previous fit had "
                                         r"\[0, 1, 2\]. Use partial_fit"):
        clf.fit(X[y < 2], y[y < 2])
    # a new class too says that warm_start keeps the fitted classes
    with pytest.raises(ValueError, match=r"warm_start=True .* y has \[0, 1, 7\] where the "
                                         r"previous fit had \[0, 1, 2\].*warm_start=False"):
        clf.fit(X, np.where(y == 2, 7, y))
    assert len(clf.loss_curve_) == 4
    clf.partial_fit(X[y < 2], y[y < 2])  # partial_fit takes some of the classes
    assert len(clf.loss_curve_) == 5


def test_partial_fit_refuses_balanced_class_weights_and_takes_a_dict(blobs):
    # one batch's class frequencies are not the data's (scikit-learn's
    # SGDClassifier refuses the same)
    X, y = blobs
    rare = np.r_[np.flatnonzero(y == 0)[:10], np.flatnonzero(y != 0)]
    X, y, classes = X[rare], y[rare], np.unique(y)
    with pytest.raises(ValueError, match="'balanced' is not supported by partial_fit"):
        MLPClassifier(class_weight="balanced").partial_fit(X, y, classes=classes)
    balanced = compute_class_weight("balanced", classes=classes, y=y)
    weights = dict(zip(classes, balanced, strict=True))
    weighted = MLPClassifier(class_weight=weights, random_state=0).partial_fit(X, y, classes)
    plain = MLPClassifier(random_state=0).partial_fit(X, y, classes)
    assert weighted.loss_ != pytest.approx(plain.loss_)


def test_partial_fit_improves_the_loss(blobs):
    X, y = blobs
    clf = MLPClassifier(random_state=0)
    for _ in range(20):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    assert clf.loss_curve_[-1] < 0.8 * clf.loss_curve_[0]


def test_gridsearch_on_imblearn_smote_pipeline_is_the_same_with_two_jobs():
    X, y = load_yeast(return_X_y=True)
    keep = y.isin(["CYT", "NUC", "MIT", "ME3", "ME2"])
    X, y = X[keep], y[keep]
    pipe = Pipeline([("scale", StandardScaler()),
                     ("smote", SMOTE(random_state=0)),
                     ("mlp", MLPClassifier(max_iter=15, random_state=0))])
    grid = {"smote__k_neighbors": [3, 5], "mlp__hidden_layer_sizes": [(16,), (32, 16)]}
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    results = [GridSearchCV(pipe, grid, scoring="f1_macro", cv=cv, n_jobs=n_jobs).fit(X, y)
               for n_jobs in (1, 2)]
    assert results[0].best_params_ == results[1].best_params_
    assert results[0].best_score_ == results[1].best_score_
    assert results[0].best_score_ > 0.3


def test_the_stopping_test_is_absolute_as_in_scikit_learn():
    # separable classes: the loss keeps falling towards 0 by a steady share,
    # which a relative test would never call converged
    X, y = make_blobs(300, centers=[[-3, -3], [3, 3]], random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(16,), dropout=0.0, learning_rate="constant",
                        learning_rate_init=0.01, max_iter=500, random_state=0).fit(X, y)
    curve = np.array(clf.loss_curve_)
    assert clf.n_iter_ < 500
    best_before = curve[:-clf.n_iter_no_change].min()
    last = curve[-clf.n_iter_no_change:]
    assert np.all(last >= best_before - clf.tol)
    assert last.min() < (1 - clf.tol) * best_before  # relatively, still improving
