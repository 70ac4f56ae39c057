import os

from aict.watching.changes import ADDED, DELETED, MODIFIED, Classifier, summarise


def test_worktree_changes_are_relative_and_named(tmp_path):
    (tmp_path / "src").mkdir()
    git_changed, items = Classifier(str(tmp_path)).classify({
        (ADDED, str(tmp_path / "new.txt")), (MODIFIED, str(tmp_path / "src" / "a.py")),
        (DELETED, str(tmp_path / "gone"))})
    assert git_changed
    assert items == [{"path": "gone", "change": "deleted"}, {"path": "new.txt", "change": "created"},
                     {"path": "src/a.py", "change": "modified"}]


def test_git_internals_are_no_file_changes_but_head_and_refs_are_git_state(tmp_path):
    classify = Classifier(str(tmp_path)).classify
    assert classify({(MODIFIED, str(tmp_path / ".git" / "objects" / "ab" / "cdef"))}) == (False, [])
    assert classify({(ADDED, str(tmp_path / ".git" / "HEAD.lock"))}) == (False, [])
    assert classify({(ADDED, str(tmp_path / ".git" / "HEAD"))}) == (True, [])
    assert classify({(ADDED, str(tmp_path / ".git" / "refs" / "heads" / "x"))}) == (True, [])
    assert classify({(MODIFIED, str(tmp_path / ".git" / "index"))}) == (True, [])
    assert classify({(MODIFIED, str(tmp_path / "vendor" / "lib" / ".git" / "HEAD"))}) == (False, [])


def test_excluded_folders_and_links_out_of_the_workspace_say_nothing(tmp_path):
    root, outside = tmp_path / "ws", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    os.symlink(outside, root / "link")
    (root / ".homes").mkdir()
    classify = Classifier(str(root), exclude=[str(root / ".homes")]).classify
    assert classify({(ADDED, str(root / "link" / "secret")), (ADDED, str(root / ".homes" / "h" / "x"))}) == (False, [])
    assert classify({(ADDED, str(root / "link"))})[1] == [{"path": "link", "change": "created"}]


def test_a_burst_is_summarised_by_folder():
    items = [{"path": f"burst/f{i}", "change": "created"} for i in range(500)]
    items.append({"path": "one.txt", "change": "modified"})
    assert summarise(items) == [{"path": "burst", "change": "many"}, {"path": "one.txt", "change": "modified"}]


def test_a_burst_over_many_folders_is_summarised_by_top_folder_then_root():
    items = [{"path": f"a/d{i}/f{j}", "change": "created"} for i in range(100) for j in range(2)]
    assert summarise(items) == [{"path": "a", "change": "many"}]
    items = [{"path": f"d{i}/f", "change": "created"} for i in range(100)]
    assert summarise(items) == [{"path": ".", "change": "many"}]


def test_small_batches_are_left_alone():
    items = [{"path": f"f{i}", "change": "created"} for i in range(50)]
    assert summarise(items) == items
