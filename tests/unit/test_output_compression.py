"""One attachment's deflate stream: each chunk decodes on arrival, the history carries over, small
chunks stay as they are, and bad `compress` values are refused."""

import zlib

import pytest

from aict.errors import AppError
from aict.realtime.output_compression import MIN_BYTES, OutputCompressor, compress_option


def test_each_chunk_decodes_on_arrival_and_the_history_carries_over():
    compressor, inflater = OutputCompressor(), zlib.decompressobj(-15)
    line = b"\x1b[32mINFO\x1b[0m worker-3 handled a request in 12 ms\r\n" * 8
    first, second = compressor.encode(line), compressor.encode(line)
    assert first.reset and not second.reset
    assert inflater.decompress(first.data) == line  # no more input needed: Z_SYNC_FLUSH
    assert inflater.decompress(second.data) == line
    assert len(second.data) < len(first.data) < len(line)  # the second is mostly references to the first
    assert second.fields() == {"encoding": "deflate-raw", "length": len(line)}
    assert first.fields() == {"encoding": "deflate-raw", "length": len(line), "reset": True}


def test_small_chunks_leave_as_they_are_and_hold_no_compressor():
    compressor = OutputCompressor()
    assert compressor.encode(b"a") is None
    assert compressor.encode(b"x" * (MIN_BYTES - 1)) is None
    assert compressor._deflate is None
    assert compressor.encode(b"x" * MIN_BYTES).reset


@pytest.mark.parametrize("value", ["gzip", "deflate", "", 0, True, ["deflate-raw"], {}])
def test_anything_but_a_known_encoding_is_bad_request(value):
    with pytest.raises(AppError) as refused:
        compress_option({"compress": value})
    assert refused.value.code == "bad_request"


def test_left_out_or_null_is_no_compression():
    assert compress_option({}) is None
    assert compress_option({"compress": None}) is None
    assert compress_option({"compress": "deflate-raw"}) == "deflate-raw"


def test_a_big_chunk_is_compressed_slice_by_slice_with_pauses_between():
    from aict.realtime.output_compression import SLICE_BYTES

    data = b"".join(b"%d\r\n" % i for i in range(100_000))
    pauses = []
    deflated = OutputCompressor().encode(data, lambda: pauses.append(1))
    assert len(pauses) == -(-len(data) // SLICE_BYTES)
    assert zlib.decompressobj(-15).decompress(deflated.data) == data
