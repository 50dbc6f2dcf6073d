"""Typed work kept between sessions: what the drafts file holds comes back as typed, and a damaged,
hostile or odd file is read as empty, never as a hang, a crash or control codes in an answer box."""

import json
import os
import stat
import time

import pytest

from tutor.core.progress.drafts import MAX_TEXT, Drafts


def test_a_draft_and_a_graph_drawing_come_back_in_a_new_session(tmp_path):
    path = tmp_path / "drafts.json"
    drafts = Drafts(path)
    drafts.put("sine-neuron", "forward_graph", "s = w @ x\na = sin(s)")
    drafts.put("mazur-2-2-2-network", "out_h1", "0.7513")
    drafts.close()
    again = Drafts(path)
    assert again.get("sine-neuron", "forward_graph") == "s = w @ x\na = sin(s)"
    assert again.lesson("mazur-2-2-2-network") == {"out_h1": "0.7513"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again.close()


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,                                # nested past the parser's recursion
    json.dumps([1, 2, 3]),                                        # not an object
    json.dumps({"drafts": {"a": ["x"], "b": {"s": 5}}, "nodes": 7}),  # entries of the wrong types
    "{\"drafts\": ",                                              # cut off mid-write by a full disk
])
def test_a_damaged_file_reads_as_no_drafts(tmp_path, text):
    path = tmp_path / "drafts.json"
    path.write_text(text)
    start = time.process_time()
    drafts = Drafts(path)
    assert drafts.lesson("a") == {} and drafts.lesson("b") == {} and drafts.problem is None
    assert time.process_time() - start < 1
    drafts.close()


def test_a_draft_holding_escape_sequences_comes_back_without_them_and_long_ones_are_cut(tmp_path):
    path = tmp_path / "drafts.json"
    path.write_text(json.dumps({"drafts": {"l": {"s": "\x1b[2J\x1b]0;owned\x07[@click=app.quit]1\x00 2\n3",
                                                "long": "7" * (10 * MAX_TEXT)}}}))
    drafts = Drafts(path)
    assert drafts.get("l", "s") == "[@click=app.quit]1 2\n3"  # the markup stays text: widgets show it plainly
    assert len(drafts.get("l", "long")) == MAX_TEXT
    drafts.close()


def test_a_fifo_or_a_link_to_a_device_is_not_read(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    zero = tmp_path / "zero.json"
    zero.symlink_to("/dev/zero")
    for path in (fifo, zero):
        start = time.process_time()
        drafts = Drafts(path)  # a FIFO would block open(); /dev/zero would fill memory
        assert drafts.lesson("a") == {}
        assert time.process_time() - start < 1
        drafts.close()
