"""Real data: MovieLens-100K ratings (from a folder you supply) and scikit-image's images.

>>> import algoreg as ar
>>> p = ar.datasets.movielens100k("~/data/ml-100k", split="u1")  # doctest: +SKIP
>>> ar.datasets.bias_baseline(p).rmse  # doctest: +SKIP
0.955...
>>> q = ar.datasets.image_completion("camera", fraction=0.3, shape=(128, 128), seed=0)
>>> type(q).__name__, q.shape, q.n_obs  # 30% of the 128 × 128 pixels observed
('CompletionProblem', (128, 128), 4915)
"""

from ..problems.bias import BiasModel, bias_baseline, global_mean
from ..problems.ratings import Ratings, RatingsProblem
from .images import (
    IMAGES,
    block_mask,
    completion_figure,
    image,
    image_completion,
    psnr,
)
from .movielens import (
    CANONICAL_SPLITS,
    ML100K_SHAPE,
    SPLITS,
    DataFileError,
    DataNotFoundError,
    DataWarning,
    data_digest,
    load_movielens100k,
    movielens100k,
    read_ratings_file,
    split_movielens100k,
)

__all__ = [
    "CANONICAL_SPLITS",
    "IMAGES",
    "ML100K_SHAPE",
    "SPLITS",
    "BiasModel",
    "DataFileError",
    "DataNotFoundError",
    "DataWarning",
    "Ratings",
    "RatingsProblem",
    "bias_baseline",
    "block_mask",
    "completion_figure",
    "data_digest",
    "global_mean",
    "image",
    "image_completion",
    "load_movielens100k",
    "movielens100k",
    "psnr",
    "read_ratings_file",
    "split_movielens100k",
]
