"""Strategy benchmarks: which plan holds up across the markets that might be true.

A suite (`marketsim.scenario.suite`) names markets and strategies; every strategy runs in
every market on common random numbers, and the results say which strategy is best
under each decision criterion and under which market conditions one beats another.

- `markets`: each market's scenario, sampled families drawn (Latin hypercube, Sobol);
- `cells`: every strategy applied to every market, checked before anything runs;
- `plan`: the benchmark ready to run (`Bench`);
- `run`: the runs not yet done, on any executor, each result handed back as it finishes;
- `leaderboard`: ranks, win rates, worst outcomes, regret and the decision criteria;
- `discovery`: the market conditions under which one strategy beats another;
- `outcome`: the record of bench.json; `records`: its types.
"""
