"""The dashboard's HTTP endpoints, read with urllib: run listing, metrics since an offset, and refusals."""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from dashboard_fixtures import epoch_line, running_server, step_line, write_run

from ember.cli.main import build_parser
from ember.dashboard import RunRegistry, read_metrics_since


def get(url: str) -> tuple[int, dict | str, dict]:
    """(status, parsed JSON body or text, headers) of a GET, without raising on 4xx."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            status, body, headers = response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as e:
        status, body, headers = e.code, e.read().decode(), dict(e.headers)
    if headers.get("Content-Type", "").startswith("application/json"):
        return status, json.loads(body), headers
    return status, body, headers


def metrics_url(server, run: str, offset) -> str:
    return f"{server.url}api/metrics?{urllib.parse.urlencode({'run': run, 'offset': offset})}"


def test_page_and_run_list(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs / "a", 2)
    write_run(runs / "b", 1)
    (runs / "not-a-run").mkdir()
    with running_server(runs) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.server_address[1] != 0
        status, page, headers = get(server.url)
        assert status == 200 and "<title>ember dashboard</title>" in page
        assert "script-src 'sha256-" in headers["Content-Security-Policy"]  # only its own inline script runs
        assert "http://" not in page.replace("http://www.w3.org/2000/svg", "") and "https://" not in page
        status, listing, _ = get(server.url + "api/runs")
        assert status == 200 and sorted(r["name"] for r in listing["runs"]) == ["a", "b"]
        assert listing["live_seconds"] == 30
        bytes_of = {r["name"]: r["bytes"] for r in listing["runs"]}
        assert bytes_of["a"] == (runs / "a" / "metrics.jsonl").stat().st_size
        now = time.time()  # a finished 100 s ago, b 50 s ago: neither is live; the newer comes first
        os.utime(runs / "a" / "metrics.jsonl", (now - 100, now - 100))
        os.utime(runs / "b" / "metrics.jsonl", (now - 50, now - 50))
        assert [r["name"] for r in get(server.url + "api/runs")[1]["runs"]] == ["b", "a"]
        write_run(runs / "c", 1)  # a run that starts while the dashboard is open: live, so first
        write_run(runs / "d", 1)  # just written too, but finished (it has its model.pt): not live
        (runs / "d" / "model.pt").write_bytes(b"")
        listing = get(server.url + "api/runs")[1]["runs"]
        assert [r["name"] for r in listing] == ["c", "d", "b", "a"] and [r["live"] for r in listing][:2] == [
            True,
            False,
        ]


def test_metrics_since_offset(tmp_path):
    run = write_run(tmp_path / "r", 2)
    path = run / "metrics.jsonl"
    with running_server(run) as server:
        status, first, _ = get(metrics_url(server, "r", 0))
        assert status == 200 and first["reset"] is False
        assert [line["kind"] for line in first["lines"]] == ["step", "epoch", "step", "epoch"]
        assert first["offset"] == path.stat().st_size
        # nothing new: an empty answer at the same offset
        _, again, _ = get(metrics_url(server, "r", first["offset"]))
        assert again["lines"] == [] and again["offset"] == first["offset"]
        # a new line, and half of the next one (being written): only the complete line comes back
        with open(path, "a") as f:
            f.write(epoch_line(3))
            f.write(step_line(4, 17)[:20])
        _, new, _ = get(metrics_url(server, "r", first["offset"]))
        assert [line["epoch"] for line in new["lines"]] == [3]
        assert new["offset"] == first["offset"] + len(epoch_line(3))
        with open(path, "a") as f:
            f.write(step_line(4, 17)[20:])
        _, rest, _ = get(metrics_url(server, "r", new["offset"]))
        assert [line["step"] for line in rest["lines"]] == [17] and rest["offset"] == path.stat().st_size


def test_truncated_file_resets_the_reader(tmp_path):
    run = write_run(tmp_path / "r", 3)
    path = run / "metrics.jsonl"
    size = path.stat().st_size
    path.write_text("".join(step_line(e, 5 * e - 2) + epoch_line(e) for e in (1,)))  # a resumed run rewinds
    payload = read_metrics_since(path, size)
    assert payload["reset"] is True and len(payload["lines"]) == 2 and payload["offset"] == path.stat().st_size
    assert read_metrics_since(path, 3)["reset"] is True  # not at a line start


def test_nan_losses_travel_as_null(tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    first = '{"kind": "step", "epoch": 1, "step": 1, "loss": NaN}\n'
    (run / "metrics.jsonl").write_text(first + "not json\n")
    with running_server(run) as server:
        status, payload, _ = get(metrics_url(server, "r", 0))
    assert status == 200 and payload["lines"] == [{"kind": "step", "epoch": 1, "step": 1, "loss": None}]
    assert len(payload["errors"]) == 1 and f"byte {len(first)}:" in payload["errors"][0]


def test_unknown_runs_bad_offsets_and_traversal_are_refused(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs / "a", 1)
    (tmp_path / "secret.txt").write_text("top secret")
    with running_server(runs) as server:
        assert get(metrics_url(server, "nope", 0))[0] == 404
        assert get(metrics_url(server, "../secret.txt", 0))[0] == 404
        assert get(metrics_url(server, str(runs / "a"), 0))[0] == 404  # a path is not a run name
        assert get(metrics_url(server, "a", -1))[0] == 400
        assert get(metrics_url(server, "a", "ten"))[0] == 400
        assert get(server.url + "api/metrics?offset=0")[0] == 400
        for path in ("../secret.txt", "a/metrics.jsonl", "runs/a/metrics.jsonl", "%2e%2e/secret.txt", "api/../a"):
            status, body, _ = get(server.url + path)
            assert status == 404 and "top secret" not in str(body)
        # a raw request line that urllib would normalise
        host, port = server.server_address[:2]
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", "/../../secret.txt")
        response = conn.getresponse()
        assert response.status == 404 and b"top secret" not in response.read()
        conn.close()


def test_foreign_host_header_is_refused(tmp_path):
    """A page on another site that rebinds its DNS name to 127.0.0.1 must not be able to read the runs."""
    write_run(tmp_path / "a", 1)
    with running_server(tmp_path) as server:
        host, port = server.server_address[:2]
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", "/api/runs", headers={"Host": f"evil.example:{port}"})
        assert conn.getresponse().status == 403
        conn.close()
        conn = http.client.HTTPConnection(host, port, timeout=5)
        conn.request("GET", "/api/runs", headers={"Host": f"localhost:{port}"})
        assert conn.getresponse().status == 200
        conn.close()


def test_registry_names_and_scanning(tmp_path):
    write_run(tmp_path / "x" / "run", 1)
    write_run(tmp_path / "y" / "run", 1)
    write_run(tmp_path / "deep" / "sweep" / "lr-0.1", 1)
    (tmp_path / "y" / "run" / "checkpoints").mkdir()
    registry = RunRegistry([tmp_path / "x", tmp_path / "y", tmp_path / "deep", tmp_path / "missing"])
    found = registry.scan()
    assert found == {
        "run": tmp_path / "x" / "run",
        "y/run": tmp_path / "y" / "run",
        "lr-0.1": tmp_path / "deep" / "sweep" / "lr-0.1",
    }
    assert registry.scan() == found  # names are stable
    single = RunRegistry([tmp_path / "x" / "run"])
    assert single.find("run") == tmp_path / "x" / "run" and single.find("x") is None


def test_cli_arguments(capsys):
    args = build_parser().parse_args(["dashboard", "runs", "other", "--port", "0", "--no-browser"])
    assert args.paths == ["runs", "other"] and args.port == 0 and args.no_browser and args.host == "127.0.0.1"
    with pytest.raises(SystemExit, match="^2$"):
        build_parser().parse_args(["dashboard", "--port", "x"])
    assert "argument --port: invalid int value: 'x'" in capsys.readouterr().err


def test_command_prints_the_url_it_serves(tmp_path):
    write_run(tmp_path / "runs" / "a", 1)
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo), "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "ember", "dashboard", str(tmp_path / "runs"), "--port", "0", "--no-browser"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:(\d+)/)", line)
        assert match and "1 run(s) found" in line, f"unexpected first line {line!r}"
        assert int(match.group(2)) > 0
        status, listing, _ = get(match.group(1) + "api/runs")
        assert status == 200 and [r["name"] for r in listing["runs"]] == ["a"]
    finally:
        proc.terminate()
        proc.wait(5)


def test_axes_are_the_reports_axes(tmp_path):
    from ember.report.curves import curve_axes

    with running_server(tmp_path) as server:
        # a flat loss over one epoch of steps, and accuracies between 0.95 and 0.99 over three epochs
        status, axes, _ = get(f"{server.url}api/axes?loss=0.25,1,2.30245,2.30262&accuracy=1,3,0.95,0.99")
        assert status == 200 and set(axes) == {"loss", "accuracy"}
        assert axes["loss"] == curve_axes("loss", [0.25, 1], [2.30245, 2.30262]).to_json()
        assert axes["loss"]["x_labels"] == ["1"]
        assert len(set(axes["loss"]["y_labels"])) == len(axes["loss"]["y_labels"]) > 1
        assert axes["accuracy"]["x_labels"] == ["1", "2", "3"] and 0.9 < axes["accuracy"]["y_range"][0] < 0.95
        status, empty, _ = get(f"{server.url}api/axes?accuracy=NaN,NaN,NaN,NaN")  # no finite point yet
        assert status == 200 and empty["accuracy"]["y_range"] == [0.0, 1.0]
        status, huge, _ = get(f"{server.url}api/axes?loss=1,1e300,-1e308,1e308")  # no overflow, no endless loop
        assert status == 200 and huge["loss"]["x_ticks"] and huge["loss"]["y_ticks"]
        for query in ("", "loss=1,2,3", "loss=a,b,c,d", "loss=1,2,3,4&loss=1,2,3,4", "speed=1,2,3,4"):
            status, body, _ = get(f"{server.url}api/axes?{query}")
            assert status == 400 and ("XMIN,XMAX,YMIN,YMAX" in body["error"] or "more than once" in body["error"])
