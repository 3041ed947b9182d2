"""Carrying a calibration's uncertainty forward: `--posterior DIR` and `posterior:` markets."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from marketsim import cli
from marketsim.core.errors import ScenarioError
from marketsim.drivers.contribution import increments, without_channel
from marketsim.drivers.posterior import Draws, draw
from marketsim.drivers.results import replicate_metrics
from marketsim.drivers.simulation import run_replicate, simulate
from marketsim.drivers.sweep import evaluate
from marketsim.plugins.prepare import load_scenario, prepare
from marketsim.scenario.posterior import read_posterior

ROOT = Path(__file__).resolve().parent.parent
COMPANY = ROOT / "scenarios" / "history" / "company.yaml"
HISTORY = ROOT / "scenarios" / "history" / "history.csv"
LOCATED = re.compile(r"\S+:\d+:\d+: ")

runner = CliRunner()


def invoke(*args: object):
    return runner.invoke(cli.app, [str(a) for a in args])


@pytest.fixture(scope="session")
def calibration(tmp_path_factory) -> Path:
    """A tiny real calibration: 4 trials of 1 replicate on 1,000 households."""
    out = tmp_path_factory.mktemp("posterior") / "fit"
    done = invoke(
        "calibrate", COMPANY, "--data", HISTORY, "--trials", 4, "--replicates", 1,
        "--set", "segments.households.size=1000", "--set", "calibrate.band_replicates=2",
        "-o", out, "--quiet",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    return out


@pytest.fixture(scope="session")
def small(tmp_path_factory) -> Path:
    """The company over 12 weeks with 2,000 households (radio from week 6)."""
    data = yaml.safe_load(COMPANY.read_text())
    data.pop("calibrate")
    data["horizon"] = 12
    data["segments"][0]["size"] = 2000
    next(c for c in data["channels"] if c["id"] == "radio")["start"] = 6
    folder = tmp_path_factory.mktemp("small")
    path = folder / "company.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    data["name"] = "same-plan"
    (folder / "same.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def edited(calibration: Path, tmp_path: Path, edit) -> Path:
    """A copy of the calibration with posterior.csv's rows passed through `edit`."""
    copy = tmp_path / "edited"
    shutil.copytree(calibration, copy)
    lines = (copy / "posterior.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    header, rows = edit(header, rows)
    text = "\n".join(",".join(r) for r in [header, *rows]) + "\n"
    (copy / "posterior.csv").write_text(text)
    return copy


def column(header: list[str], name: str) -> int:
    return header.index(name)


# --------------------------------------------------------------------------- draws


def test_draws_are_deterministic_and_independent_of_the_replicate_count(calibration):
    posterior = read_posterior(calibration)
    assert posterior.weights.sum() == pytest.approx(1.0)
    few = Draws(posterior).rows(5)
    many = Draws(read_posterior(calibration)).rows(50)
    assert few == many[:5]
    assert len(set(many)) > 1  # the posterior's spread is used
    counts = np.bincount(many, minlength=posterior.sets) / len(many)
    heaviest = int(np.argmax(posterior.weights))
    assert counts[heaviest] > 0


def test_draws_follow_the_weights_and_weights_need_not_sum_to_one(calibration, tmp_path):
    posterior = read_posterior(calibration)

    def only_third(header, rows):
        w = column(header, "weight")
        for i, row in enumerate(rows):
            row[w] = "7.5" if i == 2 else "0"
        return header, rows

    skewed = read_posterior(edited(calibration, tmp_path, only_third))
    assert {draw(skewed, r) for r in range(40)} == {2}

    def scaled(header, rows):
        w = column(header, "weight")
        for row in rows:
            row[w] = str(float(row[w]) * 1000)
        return header, rows

    shutil.rmtree(tmp_path / "edited")
    bigger = read_posterior(edited(calibration, tmp_path, scaled))
    assert Draws(bigger).rows(30) == Draws(posterior).rows(30)


# --------------------------------------------------------------------------- commands


def test_run_records_the_posterior_and_says_so(calibration, small, tmp_path):
    out = tmp_path / "run"
    done = invoke("run", small, "-r", 5, "--posterior", calibration, "-o", out)
    assert done.exit_code == 0, done.output
    used = json.loads((out / "summary.json").read_text())["posterior"]
    rows = Draws(read_posterior(calibration)).rows(5)
    assert used["draws"] == 5 and used["distinct"] == len(set(rows))
    assert used["sets"] == read_posterior(calibration).sets
    assert used["method"] == "optimize" and used["dir"] == str(calibration)
    assert "intervals include calibration uncertainty" in " ".join(done.output.split())
    assert "intervals include calibration uncertainty" in (out / "report.html").read_text()


def test_one_seed_gives_identical_files_twice(calibration, small, tmp_path):
    for name in ("a", "b"):
        done = invoke("run", small, "-r", 3, "--posterior", calibration, "-o", tmp_path / name)
        assert done.exit_code == 0, done.output
    for file in ("summary.json", "timeseries.csv", "report.html"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()


def test_replicate_r_runs_draw_r(calibration, small):
    scenario = load_scenario(small)
    draws = Draws(read_posterior(calibration))
    result = simulate(scenario, replicates=3, posterior=draws)
    for r in range(3):
        alone = prepare(draws.scenario(scenario, r))
        expected = replicate_metrics(run_replicate(alone, scenario.seed, r))
        assert result.metrics()[r].value("revenue") == expected.value("revenue")
        row = draw(draws.posterior, r)
        attention = draws.posterior.values_of(row)["segments.households.attention"]
        assert alone.segments[0].attention == pytest.approx(attention)


def test_channel_increments_rerun_each_replicate_on_its_draw(calibration, small):
    scenario = load_scenario(small)
    draws = Draws(read_posterior(calibration))
    result = simulate(scenario, replicates=2, posterior=draws)
    found = increments(result)
    for r in range(2):
        drawn = prepare(draws.scenario(scenario, r))
        with_tv = replicate_metrics(run_replicate(drawn, scenario.seed, r)).value("revenue")
        without = prepare(without_channel(drawn, "tv"))
        no_tv = replicate_metrics(run_replicate(without, scenario.seed, r)).value("revenue")
        assert found["tv"]["revenue"][r] == with_tv - no_tv


def test_compare_pairs_every_strategy_on_the_same_draw(calibration, small, tmp_path):
    out = tmp_path / "cmp"
    same = small.parent / "same.yaml"
    done = invoke("compare", small, same, "-r", 4, "--posterior", calibration, "-o", out)
    assert done.exit_code == 0, done.output
    record = json.loads((out / "comparison.json").read_text())
    base, other = (record["per_replicate"][n]["revenue"] for n in ("fresh-pantry", "same-plan"))
    assert [b - o for b, o in zip(base, other, strict=True)] == [0.0] * 4
    assert record["posterior"]["draws"] == 4
    assert "intervals include calibration uncertainty" in (out / "report.html").read_text()
    keen = tmp_path / "keen.yaml"
    keen.write_text(same.read_text().replace("attention: 0.02", "attention: 0.05"))
    refused = invoke("compare", small, keen, "--posterior", calibration, "-o", tmp_path / "no")
    assert refused.exit_code == 2
    assert "same-plan sets segments.households.attention = 0.05" in refused.output
    assert not (tmp_path / "no").exists()


def test_a_posterior_with_spread_widens_the_intervals(calibration, small, tmp_path):
    def one_set(header, rows):
        return header, [rows[0]] * len(rows)

    point = edited(calibration, tmp_path, one_set)
    spreads = {}
    for name, where in (("spread", calibration), ("point", point)):
        out = tmp_path / name
        done = invoke("run", small, "-r", 8, "--posterior", where, "-o", out, "--no-contribution")
        assert done.exit_code == 0, done.output
        spreads[name] = json.loads((out / "summary.json").read_text())["metrics"]["revenue"]
    width = {k: v["ci95_high"] - v["ci95_low"] for k, v in spreads.items()}
    assert width["spread"] > 1.5 * width["point"]


def test_sweep_and_optimize_carry_the_posterior(calibration, small, tmp_path):
    out = tmp_path / "sweep"
    done = invoke(
        "sweep", small, "--vary", "channels.tv.budget=30000,60000", "-r", 2,
        "--posterior", calibration, "-o", out,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "intervals include calibration uncertainty" in (out / "sweep.html").read_text()
    refused = invoke(
        "sweep", small, "--vary", "segments.households.churn=0.01,0.02",
        "--posterior", calibration, "-o", tmp_path / "refused",
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "--vary segments.households.churn: the posterior" in refused.output
    assert not (tmp_path / "refused").exists()
    out = tmp_path / "opt"
    done = invoke(
        "optimize", small, "--trials", 2, "-r", 2, "--set", "optimize.reevaluate=2",
        "--set", "optimize.curve_points=2", "--posterior", calibration, "-o", out, "--quiet",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    used = json.loads((out / "summary.json").read_text())["posterior"]
    assert used["draws"] == 2 and used["parameters"][0] == "segments.households.attention"
    assert "intervals include calibration uncertainty" in (out / "optimization.html").read_text()


def test_optimize_refuses_deciding_what_the_posterior_sets(calibration, small, tmp_path):
    budget = "channels.tv.budget"
    bad = edited(calibration, tmp_path, _rename("channels.radio.impact", budget))
    record = json.loads((bad / "calibration.json").read_text())
    record["parameters"][3]["path"] = budget
    (bad / "calibration.json").write_text(json.dumps(record, indent=2))
    out = tmp_path / "opt"
    done = invoke("optimize", small, "--trials", 2, "--posterior", bad, "-o", out)
    assert done.exit_code == 2, done.output
    assert f"sets {budget} in every replicate, and the optimiser decides it" in done.output
    assert not out.exists()


# --------------------------------------------------------------------------- bad input


def _drop_column(name):
    def edit(header, rows):
        j = column(header, name)
        return header[:j] + header[j + 1 :], [r[:j] + r[j + 1 :] for r in rows]

    return edit


def _weights(values):
    def edit(header, rows):
        w = column(header, "weight")
        for row, v in zip(rows, values, strict=False):
            row[w] = v
        return header, rows

    return edit


def _rename(old, new):
    def edit(header, rows):
        return [new if h == old else h for h in header], rows

    return edit


CSV_CASES = {
    "missing weight": (_drop_column("weight"), r"posterior\.csv:1:1: missing column 'weight'"),
    "missing parameter": (
        _drop_column("segments.households.churn"),
        r"posterior\.csv:1:1: missing column 'segments\.households\.churn'",
    ),
    "nan weight": (_weights(["nan"]), r"posterior\.csv:2:\d+: weight: expected a weight >= 0"),
    "negative weight": (
        _weights(["0.5", "-1"]),
        r"posterior\.csv:3:\d+: weight: expected a weight >= 0, found '-1'",
    ),
    "zero weights": (_weights(["0"] * 10), r"posterior\.csv:2:\d+: weight: every weight is 0"),
}


@pytest.mark.parametrize("case", list(CSV_CASES))
def test_a_bad_posterior_csv_is_located(calibration, small, tmp_path, case):
    edit, expected = CSV_CASES[case]
    bad = edited(calibration, tmp_path, edit)
    out = tmp_path / "out"
    done = invoke("run", small, "--posterior", bad, "-o", out)
    assert done.exit_code == 2, done.output
    assert re.search(expected, done.output), done.output
    assert not out.exists()


def _record(calibration: Path, tmp_path: Path, text: str | None) -> Path:
    copy = tmp_path / "record"
    shutil.copytree(calibration, copy)
    if text is None:
        (copy / "calibration.json").unlink()
    else:
        (copy / "calibration.json").write_text(text)
    return copy


def test_a_folder_that_is_not_a_calibration_is_refused(calibration, small, tmp_path):
    cases = {
        tmp_path / "nowhere": r"nowhere: expected a calibration directory, found nothing",
        _record(calibration, tmp_path, None): r"record: not a calibration: no calibration\.json",
    }
    no_sets = tmp_path / "no-sets"
    shutil.copytree(calibration, no_sets)
    (no_sets / "posterior.csv").unlink()
    cases[no_sets] = r"no-sets: not a calibration: no posterior\.csv"
    for where, expected in cases.items():
        out = tmp_path / "out"
        done = invoke("compare", small, small, "--posterior", where, "-o", out)
        assert done.exit_code == 2, done.output
        assert re.search(expected, done.output), done.output
        assert not out.exists()


def test_a_json_that_is_not_a_calibration_record_is_located(calibration, small, tmp_path):
    record = json.loads((calibration / "calibration.json").read_text())
    record["seed"] = "eleven"
    del record["method"]
    bad = _record(calibration, tmp_path, json.dumps(record, indent=2))
    done = invoke("run", small, "--posterior", bad, "-o", tmp_path / "out")
    assert done.exit_code == 2, done.output
    lines = [line for line in done.output.splitlines() if "calibration.json" in line]
    assert any(re.search(r"calibration\.json:\d+:\d+: seed: not a calibration", x) for x in lines)
    assert any("method" in x for x in lines), lines
    assert all(LOCATED.match(x) for x in lines), lines
    assert not (tmp_path / "out").exists()


def test_a_parameter_path_the_scenario_lacks_is_located(calibration, small, tmp_path):
    misspelt = "segments.housholds.attention"
    bad = edited(calibration, tmp_path, _rename("segments.households.attention", misspelt))
    record = json.loads((bad / "calibration.json").read_text())
    record["parameters"][0]["path"] = misspelt
    (bad / "calibration.json").write_text(json.dumps(record, indent=2))
    done = invoke("run", small, "--posterior", bad, "-o", tmp_path / "out")
    assert done.exit_code == 2, done.output
    assert re.search(
        r"posterior\.csv:1:\d+: segments\.housholds\.attention: .*did you mean 'households'",
        done.output,
    ), done.output
    assert not (tmp_path / "out").exists()


def test_a_parameter_path_that_is_not_a_number_is_located(calibration, small, tmp_path):
    path = "channels.tv.type"
    bad = edited(calibration, tmp_path, _rename("channels.radio.impact", path))
    record = json.loads((bad / "calibration.json").read_text())
    record["parameters"][-1]["path"] = path
    (bad / "calibration.json").write_text(json.dumps(record, indent=2))
    done = invoke("run", small, "--posterior", bad, "-o", tmp_path / "out")
    assert done.exit_code == 2, done.output
    assert re.search(
        r"posterior\.csv:1:\d+: channels\.tv\.type: expected a path to a number, found "
        r"'advertising'",
        done.output,
    ), done.output


# --------------------------------------------------------------------------- bench


SUITE = """name: pantry-posterior
scenario: company.yaml
replicates: 2
markets:
  - name: as-written
  - name: fit
    posterior: {posterior}
    draws: 3
strategies:
  - name: current
  - name: more-search
    shift: [{{from: channels.tv.budget, to: channels.search.budget, share: 0.3}}]
"""


def test_bench_runs_posterior_markets(calibration, small, tmp_path):
    suite = small.parent / "suite.yaml"
    suite.write_text(SUITE.format(posterior=calibration))
    out = tmp_path / "bench"
    done = invoke("bench", suite, "-o", out, "--quiet")
    assert done.exit_code == 0, done.output
    import pandas as pd

    results = pd.read_csv(out / "results.csv")
    assert {"fit[0]", "fit[1]", "fit[2]"} <= set(results["market"])
    posterior = read_posterior(calibration)
    first = results[results["market"] == "fit[1]"].iloc[0]
    drawn = posterior.values_of(draw(posterior, 1))
    assert first["segments.households.attention"] == pytest.approx(
        drawn["segments.households.attention"]
    )
    assert (results[results["market"] == "fit[0]"]["kind"] == "posterior").all()


def test_bench_refuses_a_posterior_folder_that_is_not_a_calibration(small, tmp_path):
    suite = small.parent / "bad-suite.yaml"
    suite.write_text(SUITE.format(posterior=tmp_path))
    out = tmp_path / "bench"
    done = invoke("bench", suite, "-o", out)
    assert done.exit_code == 2, done.output
    assert re.search(
        r"bad-suite\.yaml:7:16: markets\.fit\.posterior: .*not a calibration: no "
        r"calibration\.json",
        done.output,
    ), done.output
    assert not out.exists()


def test_the_docs_commands_run(calibration, tmp_path):
    """docs/calibrate.md section 6's commands on the tiny calibration, smaller and shorter."""
    import shlex

    text = (ROOT / "docs" / "calibrate.md").read_text()
    section = text.split("## 6. Carrying the uncertainty forward")[1].split("\n## ")[0]
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S).group(1)
    commands = [line for line in block.splitlines() if not line.startswith("marketsim calibrate")]
    assert {shlex.split(c)[1] for c in commands} == {"run", "sweep", "optimize", "compare"}
    shrink = {
        "--replicates 20": "--replicates 2",
        "--trials 30": "--trials 2 --set optimize.reevaluate=2 --set optimize.curve_points=2",
        "0:24000:4": "0:24000:2",
    }
    for command in commands:
        for old, new in shrink.items():
            command = command.replace(old, new)
        command = command.replace("runs/pantry-fit", str(calibration))
        command = command.replace("runs/", f"{tmp_path}/")
        words = shlex.split(command)[1:]
        if words[0] != "compare":
            words += ["--set", "segments.households.size=1000"]
        files = [str(ROOT / w) if (ROOT / w).is_file() else w for w in words]
        done = runner.invoke(cli.app, files)
        assert done.exit_code == 0, f"{command}\n{done.output}"


def test_evaluate_checks_the_draws_against_every_scenario(calibration, small, tmp_path):
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(small.read_text().replace("households", "homes"))
    scenarios = [load_scenario(small), load_scenario(renamed)]
    draws = Draws(read_posterior(calibration))
    evaluate(scenarios[:1], seed=1, replicates=1, posterior=draws)  # the first one fits
    ran = []
    with pytest.raises(ScenarioError, match=r"segments\.households\.churn"):
        evaluate(scenarios, seed=1, replicates=1, posterior=draws, on_done=ran.append)
    assert ran == []  # refused before anything ran
