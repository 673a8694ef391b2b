"""Staged builds: overwrite replaces only an index milco-pt built, leaves no ``.old`` folder even
when the final move fails, a build removes the work folders a killed build of the same path
left behind (under the path's lock), and folders follow the umask."""
import json
import os
import stat
import threading
from pathlib import Path

import pytest

from milco_pt.index.staging import clean_stale, is_ours, staged


def build(path, content="new"):
    with staged(path, "overwrite") as work:
        (work / "data.txt").write_text(content)
        (work / "pt_meta.json").write_text(json.dumps({"package_hint": "milco-pt"}))


def hidden(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.startswith("."))


def test_overwrite_refuses_what_is_not_our_index(tmp_path):
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_text("meow")
    with pytest.raises(FileExistsError, match=r"photos.*not an index built by milco-pt.*remove it yourself"):
        build(foreign)
    assert (foreign / "cat.jpg").read_text() == "meow"
    other = tmp_path / "terrier"
    other.mkdir()
    (other / "pt_meta.json").write_text(json.dumps({"type": "sparse_index", "package_hint": "python-terrier"}))
    with pytest.raises(FileExistsError, match="terrier"):
        build(other)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    with pytest.raises(FileExistsError, match="notes.txt"):
        build(a_file)
    assert a_file.read_text() == "x" and not is_ours(other) and hidden(tmp_path) == []


def test_overwrite_replaces_ours_and_leaves_nothing_hidden(tmp_path):
    path = tmp_path / "idx"
    build(path, "first")
    build(path, "second")
    assert (path / "data.txt").read_text() == "second" and is_ours(path)
    assert hidden(tmp_path) == []
    with pytest.raises(FileExistsError, match="mode='overwrite'"):
        with staged(path, "create"):
            pass


def test_failed_final_move_restores_the_old_index(tmp_path, monkeypatch):
    path = tmp_path / "idx"
    build(path, "first")
    real = Path.rename

    def failing(self, target):
        if self.name.endswith(".building"):
            raise OSError("disk full")
        return real(self, target)
    monkeypatch.setattr(Path, "rename", failing)
    with pytest.raises(OSError, match="disk full"):
        build(path, "second")
    assert (path / "data.txt").read_text() == "first"
    assert hidden(tmp_path) == []


def test_stale_work_folders_of_the_same_path_are_cleaned(tmp_path):
    stale = tmp_path / ".idx.abcd1234.building"
    dead_old = tmp_path / ".idx.99999999.old"
    other = tmp_path / ".idx2.abcd1234.building"
    not_ours = tmp_path / ".idx.notours.building"
    for p in (stale, dead_old, other, not_ours):
        p.mkdir()
        (p / "part").write_text("x")
    build(tmp_path / "idx")
    assert hidden(tmp_path) == sorted([other.name, not_ours.name])
    assert clean_stale(tmp_path / "idx2") == [other]


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_index_folders_follow_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        build(tmp_path / "idx")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "idx").stat().st_mode) == 0o777 & ~umask


def test_an_overwrite_killed_between_its_moves_gets_the_old_index_back(tmp_path):
    build(tmp_path / "idx", "first")
    (tmp_path / "idx").rename(tmp_path / ".idx.99999999.old")  # as kill -9 after the first move leaves it
    with pytest.raises(FileExistsError, match="mode='overwrite'"):
        with staged(tmp_path / "idx", "create"):
            pass
    assert (tmp_path / "idx" / "data.txt").read_text() == "first" and hidden(tmp_path) == []


def test_two_builds_of_one_path_run_one_after_the_other(tmp_path):
    path, inside, release, errors = tmp_path / "idx", threading.Event(), threading.Event(), []

    def first():
        with staged(path, "create") as work:
            (work / "data.txt").write_text("first")
            (work / "pt_meta.json").write_text(json.dumps({"package_hint": "milco-pt"}))
            inside.set()
            release.wait(60)

    def second():
        try:
            with staged(path, "create") as work:
                (work / "data.txt").write_text("second")
        except FileExistsError as e:
            errors.append(e)
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    inside.wait(60)
    threads[1].start()
    threads[1].join(0.5)
    assert threads[1].is_alive(), "the second build waits for the first one's lock"
    release.set()
    for t in threads:
        t.join(60)
    assert len(errors) == 1 and "mode='overwrite'" in str(errors[0])
    assert (path / "data.txt").read_text() == "first" and hidden(tmp_path) == []
