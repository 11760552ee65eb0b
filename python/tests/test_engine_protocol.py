"""The engine side of the message protocol: the version the host expects, message checks that mirror
src/core/messages.ts, fd-3 JSON lines, and host messages on stdin."""

import io
import json
import os
import re

import pytest

from dora_studio.engine.channel import Channel, HostReader, StopFlag
from dora_studio.engine.protocol import PROTOCOL_VERSION, is_engine_message, is_host_message
from pyrun_support import REPO


def test_protocol_version_is_the_hosts():
    source = (REPO / "src" / "core" / "messages.ts").read_text()
    assert int(re.search(r"export const PROTOCOL_VERSION = (\d+);", source).group(1)) == PROTOCOL_VERSION


def test_messages_are_checked_before_sending():
    assert is_engine_message({"type": "progress", "phase": "training", "done": 3, "total": None})
    assert not is_engine_message({"type": "progress", "phase": "warming", "done": 3, "total": 4})
    assert not is_engine_message({"type": "finished", "reason": "done", "step": 1})
    assert is_host_message({"type": "stop"}) and is_host_message({"type": "stop", "checkpoint": False})
    assert not is_host_message({"type": "start", "runDir": "/r"})  # configPath is required


def test_fd_channel_writes_json_lines():
    r, w = os.pipe()
    channel = Channel(fd=w)
    channel.send({"type": "warning", "message": "ü"})
    channel.send({"type": "finished", "reason": "stopped", "step": 2})
    os.close(w)
    lines = os.read(r, 10000).decode().splitlines()
    assert [json.loads(x)["type"] for x in lines] == ["warning", "finished"]
    with pytest.raises(ValueError, match="invalid 'finished'"):
        channel.send({"type": "finished", "reason": "maybe", "step": 2})


def test_host_reader_stop_start_and_eof():
    stop = StopFlag()
    warnings = []
    lines = b'not json\n{"type":"start","configPath":"/c","runDir":"/r"}\n{"type":"stop","checkpoint":false}\n'
    reader = HostReader(stop, warnings.append, io.BytesIO(lines).readlines()).start()
    reader.thread.join(5)
    assert stop and stop.reason == "stop requested" and stop.checkpoint is False
    assert reader.starts.get()["runDir"] == "/r" and reader.starts.get() is None
    assert len(warnings) == 1 and "malformed" in warnings[0]
    eof = StopFlag()
    HostReader(eof, warnings.append, []).start().thread.join(5)
    assert eof.reason == "the host closed the message channel"
