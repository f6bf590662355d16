"""Content neighbours: items described by what they are (their categories and the words of their title),
for items nobody has touched yet, whose collaborative neighbours are empty.

One code path for training and serving: `model_build` computes every item's top content neighbours into the
state with `content_vectors` and `top_similar`; serving describes an item the model has never seen (a
catalogue item added after the last build) with `vector_for` against the same vocabulary, and ranks the
state's items by cosine to it (`nearest_to`).

The vectors stay sparse (`ContentVectors`): a shop's catalogue (visual search seeds 60,000 items beside
MovieLens' 1,682) has a vocabulary of some 850 words, and its dense items x words matrix, multiplied with
itself, took 1,457 s of a build at a load average of 20. `top_similar` is exact but multiplies densely only
the columns many items share (categories, colours, the image part) and scatters the rare words' products from
their posting lists; serving's `nearest_to` is one pass over the sparse entries.

A vector is three parts, each scaled to unit length and weighted, then the whole scaled to unit length:
the item's categories (multi-hot), its title words (TF-IDF over the catalogue's titles; words in one title
only are dropped, since they can match nothing), and its image embedding (visual search's CNN vector from
the active `visual-index`, passed by training as `image_embeddings`: `model_build.recommendations.images`).
So the cosine of two items is the weighted mean of their parts' cosines over the parts each has:
sum_p w_p^2 cos_p / (sqrt(sum of w_p^2 over A's parts) * sqrt(... over B's)). With the weights all 1, two
items that both have categories, title words and an image score (cos_categories + cos_title + cos_image) / 3;
a part an item lacks (no image, no shared title word) adds nothing and leaves its norm, so an item without
an image is compared on categories and title alone, and with an imaged item at sqrt(2/3) of that. The
weights are equal and untuned (no held-out judgement of "similar" exists for items nobody has touched).
Serving's `vector_for` (an item added after the build) has no image part: the API never reads the index.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

CONTENT_NEIGHBOURS = 20
CATEGORY_WEIGHT = 1.0
TITLE_WEIGHT = 1.0
IMAGE_WEIGHT = 1.0  # visual search's embeddings, where the active visual index holds the item
_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about what an item is (English articles and particles; MovieLens titles move
# the article to the end: "Godfather, The").
STOPWORDS = frozenset(
    {"a", "an", "and", "as", "at", "by", "de", "for", "from", "in", "is", "it", "la", "le", "les", "of", "on"}
    | {"or", "the", "to", "with"}
)


def title_words(title: str) -> list[str]:
    return [w for w in _WORD.findall(title.lower()) if w not in STOPWORDS and len(w) > 1]


def title_vocabulary(titles: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Words in at least two titles, sorted, with their smoothed inverse document frequency."""
    import numpy as np

    counts = Counter(w for title in titles for w in set(title_words(title)))
    words = sorted(w for w, df in counts.items() if df >= 2)
    n = len(titles)
    idf = np.array([np.log((1 + n) / (1 + counts[w])) + 1.0 for w in words], dtype=np.float32)
    return words, idf


@dataclass(frozen=True)
class ContentVectors:
    """Every item's content vector, unit length, never dense over the vocabulary: the categories and title
    words as sparse rows (CSR: row `i`'s entries are `columns[indptr[i]:indptr[i + 1]]`, categories first,
    then the vocabulary's words), and the image part, where there is one, as a dense block beside them."""

    indptr: np.ndarray  # int64 [n + 1]
    columns: np.ndarray  # int32 [nnz], ascending within a row
    values: np.ndarray  # float32 [nnz]
    width: int  # categories + vocabulary
    images: np.ndarray | None = None  # float32 [n, d], scaled like the rest (zero rows: no picture)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), self.width + (0 if self.images is None else self.images.shape[1])

    def rows(self) -> np.ndarray:
        """The row of each sparse entry."""
        import numpy as np

        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.indptr))

    def dense(self) -> np.ndarray:
        """As one dense matrix [n, width + image dimensions]: for small catalogues and tests only."""
        import numpy as np

        matrix = np.zeros(self.shape, dtype=np.float32)
        matrix[self.rows(), self.columns] = self.values
        if self.images is not None:
            matrix[:, self.width :] = self.images
        return matrix

    def similarity(self, query: np.ndarray) -> np.ndarray:
        """Every item's cosine to one vector over the categories and words (`vector_for`: no image part),
        in one pass over the sparse entries."""
        import numpy as np

        weighted = self.values * query[self.columns]
        return np.bincount(self.rows(), weights=weighted, minlength=len(self)).astype(np.float32)


def content_vectors(
    item_categories: np.ndarray,
    titles: Sequence[str],
    vocabulary: Sequence[str],
    idf: np.ndarray,
    image_embeddings: np.ndarray | None = None,
) -> ContentVectors:
    """One unit-length vector per item: categories, title TF-IDF and (when given) image embedding, weighted."""
    import numpy as np

    n, n_categories = item_categories.shape
    column = {w: n_categories + j for j, w in enumerate(vocabulary)}
    category_rows, category_columns = np.nonzero(item_categories)
    category_values = item_categories[category_rows, category_columns].astype(np.float64)
    word_rows: list[int] = []
    word_columns: list[int] = []
    word_values: list[float] = []
    for i, title in enumerate(titles):
        for w, count in sorted(Counter(title_words(title)).items(), key=lambda pair: column.get(pair[0], -1)):
            j = column.get(w)
            if j is not None:
                word_rows.append(i)
                word_columns.append(j)
                word_values.append(count * float(idf[j - n_categories]))
    rows = np.concatenate([category_rows, np.array(word_rows, dtype=np.int64)])
    columns = np.concatenate([category_columns, np.array(word_columns, dtype=np.int64)])
    values = np.concatenate([category_values, np.array(word_values, dtype=np.float64)])
    is_word = columns >= n_categories
    # each part to unit length, weighted; then each row to unit length over the parts it has
    squares = [
        np.bincount(rows[~is_word], values[~is_word] ** 2, n),
        np.bincount(rows[is_word], values[is_word] ** 2, n),
    ]
    part_norms = [np.sqrt(s) for s in squares]
    values = np.where(
        is_word,
        TITLE_WEIGHT * values / np.maximum(part_norms[1][rows], 1e-12),
        CATEGORY_WEIGHT * values / np.maximum(part_norms[0][rows], 1e-12),
    )
    row_squares = (part_norms[0] > 0) * CATEGORY_WEIGHT**2 + (part_norms[1] > 0) * TITLE_WEIGHT**2
    images = None
    if image_embeddings is not None:
        image_norms = np.linalg.norm(image_embeddings.astype(np.float64), axis=1)
        images = IMAGE_WEIGHT * image_embeddings / np.maximum(image_norms, 1e-12)[:, None]
        row_squares = row_squares + (image_norms > 0) * IMAGE_WEIGHT**2
    row_norms = np.maximum(np.sqrt(row_squares), 1e-12)
    order = np.lexsort((columns, rows))
    rows, columns, values = rows[order], columns[order], values[order] / row_norms[rows[order]]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))]).astype(np.int64)
    if images is not None:
        images = (images / row_norms[:, None]).astype(np.float32)
    return ContentVectors(
        indptr, columns.astype(np.int32), values.astype(np.float32), n_categories + len(vocabulary), images
    )


def vector_for(
    categories: Sequence[str],
    title: str,
    category_names: Sequence[str],
    vocabulary: Sequence[str],
    idf: np.ndarray,
) -> np.ndarray:
    """An item the model has never seen, in the state's content space (categories it does not know and
    words outside its vocabulary count for nothing): dense over the categories and words, one row."""
    import numpy as np

    multi_hot = np.zeros((1, len(category_names)), dtype=np.float32)
    index = {str(c): j for j, c in enumerate(category_names)}
    for category in categories:
        if category in index:
            multi_hot[0, index[category]] = 1.0
    return content_vectors(multi_hot, [title], vocabulary, idf).dense()[0]


# Which columns of the sparse part `top_similar` multiplies as dense: those in more than 1 / DENSE_SHARE of
# the items. A column in d items costs about d^2 scattered additions when kept sparse and n^2 multiply-adds
# in the dense product (BLAS, some 100 times cheaper each); past about n / 16 items dense is the cheaper.
DENSE_SHARE = 16
# Entries of one block of item rows x every item (float32): 32M is 128 MB, and the top-k selection's
# indices of the same block twice that.
BLOCK_ENTRIES = 1 << 25


def top_similar(
    vectors: ContentVectors, k: int = CONTENT_NEIGHBOURS, block_entries: int = BLOCK_ENTRIES
) -> tuple[np.ndarray, np.ndarray]:
    """Each item's k most similar other items by cosine (index, similarity), best first; -1 / 0 pads.

    Exact, and never dense over the vocabulary or items x items: blocks of rows against every item, each
    block the dense product of the frequent columns (the categories, common words such as a colour, the
    image part) plus the rare words' contributions scattered from their posting lists, then the block's
    top k kept."""
    import numpy as np

    n = len(vectors)
    k = max(0, min(k, n - 1))
    items = np.full((n, k), -1, dtype=np.int32)
    weights = np.zeros((n, k), dtype=np.float32)
    if k == 0:
        return items, weights
    rows = vectors.rows()
    frequency = np.bincount(vectors.columns, minlength=vectors.width)
    frequent = frequency * DENSE_SHARE > n
    dense_column = np.cumsum(frequent) - 1
    on_dense = frequent[vectors.columns]
    parts = [np.zeros((n, int(frequent.sum())), dtype=np.float32)]
    parts[0][rows[on_dense], dense_column[vectors.columns[on_dense]]] = vectors.values[on_dense]
    if vectors.images is not None:
        parts.append(vectors.images)
    dense = np.ascontiguousarray(np.hstack(parts), dtype=np.float32)
    # the rare entries by row (CSR, as the vectors are) and by column (their posting lists)
    rare_rows, rare_columns, rare_values = rows[~on_dense], vectors.columns[~on_dense], vectors.values[~on_dense]
    rare_indptr = np.concatenate([[0], np.cumsum(np.bincount(rare_rows, minlength=n))])
    by_column = np.argsort(rare_columns, kind="stable")
    posting_items, posting_values = rare_rows[by_column], rare_values[by_column]
    posting_indptr = np.concatenate([[0], np.cumsum(np.bincount(rare_columns, minlength=vectors.width))])

    step = max(1, min(n, block_entries // n))
    for start in range(0, n, step):
        stop = min(n, start + step)
        block = dense[start:stop] @ dense.T if dense.shape[1] else np.zeros((stop - start, n), np.float32)
        # rare words: each of the block's entries meets every item of its word's posting list
        first, last = rare_indptr[start], rare_indptr[stop]
        entry_columns = rare_columns[first:last]
        lengths = posting_indptr[entry_columns + 1] - posting_indptr[entry_columns]
        if lengths.sum():
            offsets = np.repeat(posting_indptr[entry_columns] - np.cumsum(lengths) + lengths, lengths)
            postings = offsets + np.arange(int(lengths.sum()))
            block_rows = np.repeat(rare_rows[first:last] - start, lengths)
            products = np.repeat(rare_values[first:last], lengths) * posting_values[postings]
            np.add.at(block, (block_rows, posting_items[postings]), products)
        local = np.arange(stop - start)
        block[local, start + local] = -np.inf  # never one's own neighbour
        top = np.argpartition(block, n - k, axis=1)[:, n - k :]
        values = np.take_along_axis(block, top, axis=1)
        order = np.lexsort((top, -values), axis=1)  # best first, ties by item (the selection's own order is arbitrary)
        top, values = np.take_along_axis(top, order, axis=1), np.take_along_axis(values, order, axis=1)
        keep = values > 0
        items[start:stop] = np.where(keep, top, -1)
        weights[start:stop] = np.where(keep, values, 0.0)
    return items, weights


def nearest_to(vector: np.ndarray, vectors: ContentVectors, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k items most similar to one vector (index, similarity), best first, similarity above 0."""
    import numpy as np

    similarity = vectors.similarity(vector)
    k = min(k, len(similarity))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    top = np.argpartition(-similarity, k - 1)[:k]
    top = top[np.argsort(-similarity[top], kind="stable")]
    top = top[similarity[top] > 0]
    return top.astype(np.int64), similarity[top].astype(np.float32)
