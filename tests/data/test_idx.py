"""The IDX reader: good files (gz and raw, every dtype), and every kind of bad file."""
import gzip

import numpy as np
import pytest

from lamina.data import parse_idx, read_idx, write_idx
from lamina.errors import DataError, LaminaValueError

HTML = b"<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n"


def _images(rng, n=5):
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


def _raw_idx(array: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + b"".join(s.to_bytes(4, "big") for s in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_images_and_labels_round_trip(tmp_path, rng, suffix):
    images, labels = _images(rng), rng.integers(0, 10, size=5, dtype=np.uint8)
    write_idx(tmp_path / f"images{suffix}", images)
    write_idx(tmp_path / f"labels{suffix}", labels)
    got_images, got_labels = read_idx(tmp_path / f"images{suffix}"), read_idx(tmp_path / f"labels{suffix}")
    assert got_images.dtype == np.uint8 and got_images.shape == (5, 28, 28)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_magic_numbers_are_the_standard_ones(tmp_path, rng):
    write_idx(tmp_path / "i", _images(rng))
    write_idx(tmp_path / "l", np.zeros(5, np.uint8))
    assert (tmp_path / "i").read_bytes()[:4] == b"\x00\x00\x08\x03"
    assert (tmp_path / "l").read_bytes()[:4] == b"\x00\x00\x08\x01"


@pytest.mark.parametrize("dtype,code", [("u1", 0x08), ("i1", 0x09), ("i2", 0x0B), ("i4", 0x0C),
                                        ("f4", 0x0D), ("f8", 0x0E)])
def test_general_dtype_codes_are_big_endian(rng, dtype, code):
    array = (rng.standard_normal((3, 4)) * 100).astype(dtype)
    data = _raw_idx(array, code)  # written independently of write_idx
    got = parse_idx(data)
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, array)
    np.testing.assert_array_equal(parse_idx(gzip.compress(data)), array)


def test_compression_is_detected_from_content_not_name(tmp_path, rng):
    images = _images(rng)
    write_idx(tmp_path / "raw.gz", images, compress=False)
    write_idx(tmp_path / "packed", images, compress=True)
    np.testing.assert_array_equal(read_idx(tmp_path / "raw.gz"), images)
    np.testing.assert_array_equal(read_idx(tmp_path / "packed"), images)


def _bad_files(rng):
    good = _raw_idx(_images(rng, 2), 0x08)
    return {
        "truncated raw": (good[:-7], "truncated"),
        "truncated gz": (gzip.compress(good)[:-40], "truncated"),
        "gz missing trailer": (gzip.compress(good)[:-4], "truncated"),
        "truncated header": (good[:10], "truncated"),
        "bad magic": (b"\x00\x01\x08\x03" + good[4:], "not an IDX file"),
        "unknown dtype code": (b"\x00\x00\x07\x03" + good[4:], "not an IDX file"),
        "zero dimensions": (b"\x00\x00\x08\x00", "0 dimensions"),
        "trailing garbage raw": (good + b"junk", "trailing"),
        "trailing garbage in gz": (gzip.compress(good + b"junk"), "trailing"),
        "garbage after gz stream": (gzip.compress(good) + b"junk", "trailing"),
        "html page": (HTML, "HTML"),
        "gzipped html page": (gzip.compress(HTML), "HTML"),
        "empty": (b"", "truncated"),
        "corrupt deflate": (gzip.compress(good)[:20] + bytes(40) + gzip.compress(good)[60:],
                            "gzip|trailing|truncated"),
    }


@pytest.mark.parametrize("case", list(_bad_files(np.random.default_rng(0))))
def test_bad_files_raise_a_clear_data_error(tmp_path, case):
    data, words = _bad_files(np.random.default_rng(0))[case]
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(data)
    with pytest.raises(DataError, match=words):
        read_idx(path)


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_idx(tmp_path / "nothing.gz")


def test_header_claiming_huge_payload_is_refused_without_allocating():
    huge = b"\x00\x00\x08\x03" + (0xFFFFFFFF).to_bytes(4, "big") * 3 + bytes(100)
    with pytest.raises(DataError, match="truncated"):
        parse_idx(huge)
    with pytest.raises(DataError, match="truncated"):
        parse_idx(gzip.compress(huge))


def test_random_bytes_and_mutations_raise_data_error_or_parse(rng):
    good = _raw_idx(_images(rng, 2), 0x08)
    candidates = [rng.bytes(int(n)) for n in rng.integers(0, 3000, size=150)]
    candidates += [b"\x1f\x8b" + rng.bytes(200) for _ in range(30)]
    candidates += [b"\x00\x00\x08\x03" + rng.bytes(int(n)) for n in rng.integers(0, 64, size=30)]
    for blob in (good, gzip.compress(good)):
        for _ in range(60):
            mutated = bytearray(blob)
            positions = rng.integers(0, len(mutated), size=3)
            mutated[positions[0]] ^= 1 + int(rng.integers(255))
            candidates.append(bytes(mutated[: int(positions[1]) + 1]))
            candidates.append(bytes(mutated))
    parsed = 0
    for data in candidates:
        try:
            parse_idx(data)
            parsed += 1
        except DataError:
            pass
    assert parsed < len(candidates) // 2  # most are garbage, and none crashed differently


@pytest.mark.parametrize("array,words", [(np.zeros(3, np.int64), "dtype"), (np.zeros((), np.uint8), "dimensions")])
def test_write_idx_refuses_what_idx_cannot_store(tmp_path, array, words):
    with pytest.raises(LaminaValueError, match=words):
        write_idx(tmp_path / "x", array)
