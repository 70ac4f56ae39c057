"""make cluster on a machine whose Redis other copies of aict use too: each instance its own prefix."""

from aict.runtime.cluster import Cluster


def test_each_instance_gets_a_redis_prefix_of_its_own_unless_one_is_chosen(tmp_path, monkeypatch):
    monkeypatch.delenv("AICT_REDIS_PREFIX", raising=False)
    monkeypatch.setenv("AICT_CONFIG", str(tmp_path / "none.py"))
    prefixes = []
    for name in ("one", "two", "one"):
        monkeypatch.setenv("AICT_INSTANCE_DIR", str(tmp_path / name))
        prefixes.append(Cluster(2).redis_prefix)
    assert prefixes[0] == prefixes[2] != prefixes[1]  # stable for an instance, distinct across them
    assert all(p.startswith("aict-") for p in prefixes)

    monkeypatch.setenv("AICT_REDIS_PREFIX", "chosen")
    cluster = Cluster(2)
    assert cluster.redis_prefix == "chosen" and cluster.base_env()["AICT_REDIS_PREFIX"] == "chosen"
