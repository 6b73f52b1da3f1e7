"""Read a W&B offline run file (``run-<id>.wandb``) with W&B's own record schema.

wandb 0.31 writes the file from its Go core and no longer ships a Python reader. The file is the
LevelDB log format W&B documents for its transaction log (a 7-byte header ``:W&B`` + magic
0xBEE1 + version 0, then 32 KiB blocks of checksummed chunks), and each record is a
``wandb.proto.wandb_internal_pb2.Record``: this module only splits the chunks, W&B's protobuf
classes decode them.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

BLOCK = 32768
HEADER = struct.Struct("<4sHB")  # ident, magic, version
CHUNK = struct.Struct("<IHB")  # crc32c, length, type (1 full, 2 first, 3 middle, 4 last)


def records(path: Path) -> Iterator[Any]:
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    ident, magic, version = HEADER.unpack_from(data, 0)
    assert (ident, magic, version) == (b":W&B", 0xBEE1, 0), "not a W&B transaction log"
    offset, pending = HEADER.size, b""
    while offset + CHUNK.size <= len(data):
        left_in_block = BLOCK - offset % BLOCK
        if left_in_block < CHUNK.size:  # block trailer: padding
            offset += left_in_block
            continue
        _, length, kind = CHUNK.unpack_from(data, offset)
        if kind == 0 and length == 0:  # zero padding at the end of the file
            break
        body = data[offset + CHUNK.size : offset + CHUNK.size + length]
        offset += CHUNK.size + length
        pending += body
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


def offline_run(run_dir: Path) -> dict[str, Any]:
    """The run record (name, group, job_type, tags), its config and its history rows."""
    [path] = run_dir.glob("wandb/offline-run-*/run-*.wandb")
    run: Any = None
    config: dict[str, Any] = {}
    history: list[dict[str, Any]] = []
    for record in records(path):
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run = record.run
            config.update({item.key: json.loads(item.value_json) for item in run.config.update})
        elif kind == "config":
            config.update({item.key: json.loads(item.value_json) for item in record.config.update})
        elif kind == "history":
            history.append(
                {item.key or "/".join(item.nested_key): json.loads(item.value_json) for item in record.history.item}
            )
    assert run is not None, f"{path} has no run record"
    return {
        "name": run.display_name,
        "group": run.run_group,
        "job_type": run.job_type,
        "tags": list(run.tags),
        "config": config,
        "history": history,
    }
