"""Small datasets and minibatches for the tensor lessons (07-09).

Everything here works offline:

- :func:`make_moons` and :func:`load_digits` come from scikit-learn's bundled data;
- :func:`digits_28x28` upsamples the 8x8 digits to MNIST's 28x28 = 784 pixels, so the seed
  deck's ``DeepMLP`` (784-512-256-128-64-10) runs without downloading MNIST;
- :func:`load_mnist` reads the standard MNIST IDX files when a user has them, and
  :func:`load_deck_dataset` uses MNIST when present, else the 28x28 digits.

Arrays are numpy: inputs ``float32`` of shape ``(n, features)``, class labels ``int64`` of
shape ``(n,)``. :class:`DataLoader` cuts them into shuffled minibatches, like PyTorch's.

Example:
    >>> X, y = make_moons(200, noise=0.1, seed=0)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    >>> for xb, yb in DataLoader(X_train, y_train, batch_size=32, seed=0):
    ...     pass
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MNIST_ENV_VAR = "AUTODIFF_MNIST_DIR"
"""Environment variable naming the folder that holds the MNIST IDX files."""

DEFAULT_MNIST_DIR = Path.home() / ".autodiff_course" / "mnist"
"""Where :func:`load_deck_dataset` looks for MNIST when no argument or variable says."""

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
"""The four standard MNIST file names (each may also end in ``.gz``)."""

# IDX type codes (third byte of the magic number) and the numpy dtype they stand for.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


# ---------------------------------------------------------------------------------------------
# Toy datasets from scikit-learn
# ---------------------------------------------------------------------------------------------


def make_moons(
    n_samples: int = 200, noise: float = 0.1, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles: a 2-D binary classification problem.

    Args:
        n_samples: number of points (split evenly between the two moons).
        noise: standard deviation of the Gaussian noise added to every coordinate.
        seed: random seed; the same seed gives the same points.

    Returns:
        ``X`` of shape ``(n_samples, 2)`` (float32) and labels ``y`` in ``{0, 1}`` (int64).

    Example:
        >>> X, y = make_moons(100, noise=0.2, seed=1)
        >>> X.shape, sorted(set(y.tolist()))
        ((100, 2), [0, 1])
    """
    from sklearn.datasets import make_moons as sklearn_make_moons

    if n_samples < 2:
        raise ValueError(f"make_moons needs n_samples >= 2, got {n_samples}")
    if noise < 0:
        raise ValueError(f"noise is a standard deviation and must be >= 0, got {noise}")
    X, y = sklearn_make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return X.astype(np.float32), y.astype(np.int64)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 1,797 handwritten 8x8 digits bundled with scikit-learn, scaled to ``[0, 1]``.

    Returns:
        ``X`` of shape ``(1797, 64)`` (float32, pixel intensity / 16) and ``y`` in ``0..9``.

    Example:
        >>> X, y = load_digits()
        >>> X.shape, float(X.max()), int(y.max())
        ((1797, 64), 1.0, 9)
    """
    from sklearn.datasets import load_digits as sklearn_load_digits

    X, y = sklearn_load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y.astype(np.int64)


def _linear_resize_matrix(n_in: int, n_out: int) -> np.ndarray:
    r"""Matrix ``R`` of shape ``(n_out, n_in)`` with ``R @ v`` = ``v`` linearly resampled.

    Output pixel ``i`` sits at input coordinate :math:`t_i = (i + 0.5)\,n_{in}/n_{out} - 0.5`
    (pixel centres aligned) and mixes its two neighbours with weights ``1 - frac`` and ``frac``.
    """
    t = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    left = np.floor(t).astype(int)
    right = np.minimum(left + 1, n_in - 1)
    frac = t - left
    R = np.zeros((n_out, n_in))
    R[np.arange(n_out), left] += 1 - frac
    R[np.arange(n_out), right] += frac
    return R


def digits_28x28() -> tuple[np.ndarray, np.ndarray]:
    """The scikit-learn digits shaped like MNIST: 28x28 = 784 pixels in ``[0, 1]``.

    Like MNIST, each digit fills a 20x20 box (bilinear upsampling of the 8x8 image,
    :math:`X_{20} = R\\,X_8\\,R^T`) centred in a 28x28 frame with a 4-pixel empty border.
    It lets the deck's ``DeepMLP`` with 784 inputs run offline.

    Returns:
        ``X`` of shape ``(1797, 784)`` (float32) and ``y`` in ``0..9`` (int64).

    Example:
        >>> X, y = digits_28x28()
        >>> X.shape
        (1797, 784)
    """
    X8, y = load_digits()
    R = _linear_resize_matrix(8, 20)
    images20 = R @ X8.reshape(-1, 8, 8) @ R.T  # (20, 8) @ (n, 8, 8) @ (8, 20), per image
    images28 = np.zeros((len(X8), 28, 28), dtype=np.float32)
    images28[:, 4:24, 4:24] = images20
    return images28.reshape(len(X8), 784), y


# ---------------------------------------------------------------------------------------------
# MNIST from IDX files
# ---------------------------------------------------------------------------------------------


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (the format MNIST ships in), gzip-compressed or not.

    The header is two zero bytes, a type code, the number of dimensions ``d``, then ``d``
    big-endian 32-bit sizes; the data follow in C order.

    Example:
        >>> images = read_idx("train-images-idx3-ubyte.gz")  # doctest: +SKIP
        >>> images.shape  # doctest: +SKIP
        (60000, 28, 28)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as file:
        raw = file.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number {raw[:4].hex()})")
    dtype = _IDX_DTYPES[raw[2]]
    ndim = raw[3]
    header_size = 4 + 4 * ndim
    shape = tuple(int(s) for s in np.frombuffer(raw[4:header_size], dtype=">u4"))
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header_size != expected:
        raise ValueError(
            f"{path}: header says shape {shape} ({expected} bytes of data) "
            f"but the file holds {len(raw) - header_size}"
        )
    return np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)


def _find_idx_file(directory: Path, name: str) -> Path | None:
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _missing_mnist_message(directory: Path, missing: list[str]) -> str:
    all_names = [name for pair in MNIST_FILES.values() for name in pair]
    return (
        f"MNIST files not found in {directory}: missing {', '.join(missing)}.\n"
        f"Put the four standard IDX files there ({', '.join(all_names)}; "
        "each may be gzipped, ending in .gz), "
        f"or point the environment variable {MNIST_ENV_VAR} at the folder that holds them. "
        "Without MNIST, use load_deck_dataset(), which falls back to digits_28x28()."
    )


def load_mnist(directory: str | os.PathLike, kind: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """MNIST images and labels from the standard IDX files in ``directory``.

    Args:
        directory: folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
            ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (optionally ``.gz``).
        kind: ``"train"`` (60,000 images) or ``"test"`` (10,000 images).

    Returns:
        ``X`` of shape ``(n, 784)`` (float32, pixel / 255) and ``y`` in ``0..9`` (int64).

    Raises:
        FileNotFoundError: naming the expected files and where to put them.

    Example:
        >>> X, y = load_mnist("~/.autodiff_course/mnist", kind="test")  # doctest: +SKIP
        >>> X.shape  # doctest: +SKIP
        (10000, 784)
    """
    if kind not in MNIST_FILES:
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}")
    directory = Path(directory).expanduser()
    images_name, labels_name = MNIST_FILES[kind]
    images_path = _find_idx_file(directory, images_name)
    labels_path = _find_idx_file(directory, labels_name)
    missing = [
        name for name, path in ((images_name, images_path), (labels_name, labels_path)) if not path
    ]
    if missing:
        raise FileNotFoundError(_missing_mnist_message(directory, missing))
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise ValueError(
            f"{images_path} and {labels_path} do not match: images {images.shape}, "
            f"labels {labels.shape} (expected (n, rows, cols) and (n,))"
        )
    X = images.reshape(len(images), -1).astype(np.float32) / 255.0
    return X, labels.astype(np.int64)


# ---------------------------------------------------------------------------------------------
# Splits and the deck's dataset
# ---------------------------------------------------------------------------------------------


def train_test_split(
    X: np.ndarray, y: np.ndarray, test_size: float = 0.2, seed: int | None = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle once with ``seed`` and cut off a test set (same order as scikit-learn's).

    Args:
        X, y: inputs and labels with the same first dimension.
        test_size: fraction in ``(0, 1)`` of the rows that go to the test set.
        seed: random seed; the same seed gives the same split.

    Returns:
        ``X_train, X_test, y_train, y_test``.

    Example:
        >>> X, y = np.arange(20).reshape(10, 2), np.arange(10)
        >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3)
        >>> len(X_train), len(X_test)
        (7, 3)
    """
    if len(X) != len(y):
        raise ValueError(f"X and y differ in length: {len(X)} vs {len(y)}")
    if not 0 < test_size < 1:
        raise ValueError(f"test_size is a fraction in (0, 1), got {test_size}")
    n_test = max(1, int(round(test_size * len(X))))
    if n_test >= len(X):
        raise ValueError(f"test_size={test_size} leaves no training rows out of {len(X)}")
    order = np.random.default_rng(seed).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]


@dataclass
class Dataset:
    """A train/test split and where it came from (``"mnist"`` or ``"digits_28x28"``)."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def mnist_directory(directory: str | os.PathLike | None = None) -> Path:
    """The folder to look for MNIST in: ``directory``, else ``$AUTODIFF_MNIST_DIR``, else
    :data:`DEFAULT_MNIST_DIR`."""
    if directory is not None:
        return Path(directory).expanduser()
    from_env = os.environ.get(MNIST_ENV_VAR)
    return Path(from_env).expanduser() if from_env else DEFAULT_MNIST_DIR


def load_deck_dataset(
    mnist_dir: str | os.PathLike | None = None,
    max_train: int | None = None,
    test_size: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """The dataset for the deck's 784-input ``DeepMLP``: MNIST if present, else 28x28 digits.

    Args:
        mnist_dir: folder with the MNIST IDX files (see :func:`mnist_directory` for defaults).
        max_train: keep at most this many training rows (a random subset), for quick runs.
        test_size: test fraction for the digits fallback (MNIST has its own test set).
        seed: seed of the digits split and of the ``max_train`` subset.

    Example:
        >>> data = load_deck_dataset(max_train=1000)
        >>> data.n_features, data.n_classes
        (784, 10)
    """
    directory = mnist_directory(mnist_dir)
    if all(_find_idx_file(directory, name) for pair in MNIST_FILES.values() for name in pair):
        X_train, y_train = load_mnist(directory, "train")
        X_test, y_test = load_mnist(directory, "test")
        name = "mnist"
    else:
        X, y = digits_28x28()
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size, seed=seed)
        name = "digits_28x28"
    if max_train is not None and max_train < len(X_train):
        keep = np.random.default_rng(seed).choice(len(X_train), size=max_train, replace=False)
        X_train, y_train = X_train[keep], y_train[keep]
    return Dataset(X_train, y_train, X_test, y_test, name)


# ---------------------------------------------------------------------------------------------
# Minibatches
# ---------------------------------------------------------------------------------------------


def batches(
    X: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    shuffle: bool = True,
    seed: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """One pass over ``(X, y)`` in minibatches of ``batch_size`` rows (the last may be smaller).

    Example:
        >>> X, y = np.zeros((10, 2)), np.arange(10)
        >>> [len(yb) for _, yb in batches(X, y, batch_size=4, shuffle=False)]
        [4, 4, 2]
    """
    if len(X) != len(y):
        raise ValueError(f"X and y differ in length: {len(X)} vs {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = np.random.default_rng(seed).permutation(len(X)) if shuffle else np.arange(len(X))
    for start in range(0, len(X), batch_size):
        rows = order[start : start + batch_size]
        yield X[rows], y[rows]


class DataLoader:
    """Re-iterable minibatches, a fresh shuffle per epoch (like ``torch.utils.data.DataLoader``).

    Epoch ``e`` (counting from 0) shuffles with seed ``(seed, e)``, so a run is reproducible and
    each epoch sees a different order.

    Example:
        >>> X, y = np.zeros((10, 2)), np.arange(10)
        >>> loader = DataLoader(X, y, batch_size=4, seed=0)
        >>> len(loader), sum(len(yb) for _, yb in loader)
        (3, 10)
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        batch_size: int = 64,
        shuffle: bool = True,
        seed: int | None = 0,
    ) -> None:
        if len(X) != len(y):
            raise ValueError(f"X and y differ in length: {len(X)} vs {len(y)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.X, self.y = X, y
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return -(-len(self.X) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        seed = None if self.seed is None else (self.seed, self.epoch)
        self.epoch += 1
        yield from batches(self.X, self.y, self.batch_size, shuffle=self.shuffle, seed=seed)
