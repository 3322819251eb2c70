"""Tests for autodiff_lib.data: bundled datasets, MNIST IDX reading, splits and minibatches."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from autodiff_lib import data


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    """Write ``array`` (uint8) as an IDX file, the way MNIST is distributed."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    if compress:
        with gzip.open(f"{path}.gz", "wb") as file:
            file.write(payload)
    else:
        path.write_bytes(payload)


def write_fake_mnist(directory, n_train=12, n_test=5, compress=False, seed=0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    for name, array in arrays.items():
        write_idx(directory / name, array, compress=compress)
    return arrays


def test_make_moons_shapes_types_and_seed():
    X, y = data.make_moons(60, noise=0.1, seed=3)
    assert X.shape == (60, 2) and X.dtype == np.float32
    assert y.dtype == np.int64 and np.bincount(y).tolist() == [30, 30]
    X_again, _ = data.make_moons(60, noise=0.1, seed=3)
    X_other, _ = data.make_moons(60, noise=0.1, seed=4)
    np.testing.assert_array_equal(X, X_again)
    assert not np.allclose(X, X_other)


def test_make_moons_rejects_negative_noise():
    with pytest.raises(ValueError, match="noise"):
        data.make_moons(10, noise=-0.1)


def test_load_digits_is_scaled_to_unit_interval():
    X, y = data.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(y.tolist()) == set(range(10))


def test_digits_28x28_looks_like_mnist():
    X8, y8 = data.load_digits()
    X, y = data.digits_28x28()
    assert X.shape == (1797, 784) and X.dtype == np.float32
    np.testing.assert_array_equal(y, y8)
    images = X.reshape(-1, 28, 28)
    # a 4-pixel empty border around a 20x20 digit, like MNIST
    border = np.ones((28, 28), bool)
    border[4:24, 4:24] = False
    assert images[:, border].max() == 0.0
    assert 0.0 <= images.min() and images.max() <= 1.0
    # bilinear upsampling keeps the overall brightness of each digit (mean over its box)
    np.testing.assert_allclose(images[:, 4:24, 4:24].mean(axis=(1, 2)), X8.mean(axis=1), atol=0.02)
    # resampling the 20x20 box back to 8x8 gives the original digit back, nearly
    down = data._linear_resize_matrix(20, 8)
    restored = (down @ images[:, 4:24, 4:24] @ down.T).reshape(-1, 64)
    assert np.corrcoef(restored.ravel(), X8.ravel())[0, 1] > 0.95


def test_linear_resize_matrix_preserves_constants_and_endpoints():
    R = data._linear_resize_matrix(8, 20)
    np.testing.assert_allclose(R.sum(axis=1), 1.0)
    ramp = np.arange(8.0)
    resized = R @ ramp
    assert np.all(np.diff(resized) >= 0)
    assert resized[0] == 0.0 and resized[-1] == 7.0


@pytest.mark.parametrize("compress", [False, True])
def test_load_mnist_reads_idx_files(tmp_path, compress):
    arrays = write_fake_mnist(tmp_path, compress=compress)
    X, y = data.load_mnist(tmp_path, "train")
    assert X.shape == (12, 784) and X.dtype == np.float32
    np.testing.assert_allclose(X * 255, arrays["train-images-idx3-ubyte"].reshape(12, 784))
    np.testing.assert_array_equal(y, arrays["train-labels-idx1-ubyte"])
    X_test, y_test = data.load_mnist(tmp_path, "test")
    assert X_test.shape == (5, 784) and y_test.shape == (5,)


def test_load_mnist_missing_files_error_names_files_and_env_var(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        data.load_mnist(tmp_path, "train")
    message = str(info.value)
    assert str(tmp_path) in message
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert data.MNIST_ENV_VAR in message and ".gz" in message


def test_read_idx_rejects_bad_magic_and_truncated_data(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x01\x02\x03\x04rest")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(bad)
    truncated = tmp_path / "truncated"
    truncated.write_bytes(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"\x00" * 3)
    with pytest.raises(ValueError, match="10 bytes"):
        data.read_idx(truncated)


def test_load_deck_dataset_uses_mnist_when_present(tmp_path, monkeypatch):
    write_fake_mnist(tmp_path)
    monkeypatch.setenv(data.MNIST_ENV_VAR, str(tmp_path))
    dataset = data.load_deck_dataset()
    assert dataset.name == "mnist"
    assert dataset.X_train.shape == (12, 784) and dataset.X_test.shape == (5, 784)


def test_load_deck_dataset_falls_back_to_digits(tmp_path, monkeypatch):
    monkeypatch.setenv(data.MNIST_ENV_VAR, str(tmp_path / "nowhere"))
    dataset = data.load_deck_dataset(max_train=300, seed=1)
    assert dataset.name == "digits_28x28"
    assert dataset.X_train.shape == (300, 784)
    assert dataset.n_features == 784 and dataset.n_classes == 10
    # an explicit folder wins over the environment variable
    write_fake_mnist(tmp_path)
    assert data.load_deck_dataset(mnist_dir=tmp_path).name == "mnist"


def test_train_test_split_is_a_seeded_partition():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=7)
    assert len(y_test) == 5 and len(y_train) == 15
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(20))
    np.testing.assert_array_equal(X_train[:, 0] // 2, y_train)  # rows stay paired
    again = data.train_test_split(X, y, test_size=0.25, seed=7)
    np.testing.assert_array_equal(again[3], y_test)
    with pytest.raises(ValueError, match="test_size"):
        data.train_test_split(X, y, test_size=1.5)
    with pytest.raises(ValueError, match="differ in length"):
        data.train_test_split(X, y[:-1])


def test_batches_cover_every_row_once():
    X = np.arange(23)[:, None].astype(float)
    y = np.arange(23)
    sizes, seen = [], []
    for xb, yb in data.batches(X, y, batch_size=5, seed=0):
        np.testing.assert_array_equal(xb[:, 0], yb)
        sizes.append(len(yb))
        seen.extend(yb.tolist())
    assert sizes == [5, 5, 5, 5, 3]
    assert sorted(seen) == list(range(23)) and seen != list(range(23))
    in_order = [yb.tolist() for _, yb in data.batches(X, y, batch_size=10, shuffle=False)]
    assert in_order[0] == list(range(10))


def test_dataloader_reshuffles_each_epoch_reproducibly():
    X = np.arange(30)[:, None]
    y = np.arange(30)
    loader = data.DataLoader(X, y, batch_size=8, seed=0)
    assert len(loader) == 4
    epoch0 = np.concatenate([yb for _, yb in loader])
    epoch1 = np.concatenate([yb for _, yb in loader])
    assert sorted(epoch0.tolist()) == sorted(epoch1.tolist()) == list(range(30))
    assert not np.array_equal(epoch0, epoch1)
    replay = data.DataLoader(X, y, batch_size=8, seed=0)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in replay]), epoch0)
    with pytest.raises(ValueError, match="batch_size"):
        data.DataLoader(X, y, batch_size=0)
