"""Append-only, named schema migrations, applied in order when a store opens.

Never edit or reorder a migration that has shipped: add a new one at the end.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "001_initial",
        """
CREATE TABLE runs (
    id TEXT PRIMARY KEY,            -- uuid4 hex
    kind TEXT NOT NULL,             -- run | multiagent | sweep | ingest | ...
    label TEXT,
    status TEXT NOT NULL,           -- running | ok | failed | interrupted
    started_at TEXT NOT NULL,       -- ISO 8601, UTC
    finished_at TEXT,
    error TEXT,
    command TEXT,                   -- argv, secrets never included
    settings_json TEXT,
    system_json TEXT,
    output_dir TEXT
);
CREATE TABLE agents (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    agent_id TEXT NOT NULL,         -- e.g. insight, collector
    label TEXT,
    persona TEXT,
    model TEXT,
    backend TEXT,
    url TEXT,
    options_json TEXT,
    status TEXT NOT NULL,
    error TEXT,
    report_path TEXT,
    started_at TEXT,
    finished_at TEXT,
    total_s REAL, ingest_s REAL, analysis_s REAL, report_s REAL,
    grounded_ratio REAL,
    quality_score REAL,
    quality_json TEXT
);
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    agent_row INTEGER REFERENCES agents(id),
    stage TEXT,                     -- analysis | report | load | probe | ...
    backend TEXT, url TEXT, model TEXT, endpoint TEXT,
    options_json TEXT,
    prompt TEXT,
    response TEXT,
    status TEXT NOT NULL,           -- ok | failed
    error TEXT,
    started_at TEXT,
    ttft_ms REAL, e2e_ms REAL, itl_ms_mean REAL, itl_ms_p50 REAL, itl_ms_p99 REAL,
    load_ms REAL, prompt_eval_ms REAL, eval_ms REAL, server_total_ms REAL,
    prompt_tokens INTEGER, output_tokens INTEGER,
    decode_tokens_per_s REAL, prefill_tokens_per_s REAL,
    done_reason TEXT,
    estimated_json TEXT
);
CREATE TABLE facts (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    source TEXT, locator TEXT, model TEXT, config_json TEXT,
    metric TEXT, value REAL, unit TEXT, original_key TEXT
);
CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    kind TEXT, severity TEXT, files_json TEXT, evidence TEXT
);
CREATE INDEX calls_run ON calls(run_id);
CREATE INDEX agents_run ON agents(run_id);
CREATE INDEX facts_run ON facts(run_id);
CREATE INDEX findings_run ON findings(run_id);
""",
    ),
    (
        "002_sweep_points_trials",
        """
ALTER TABLE calls ADD COLUMN point TEXT;        -- sweep, optimize: e.g. num_ctx=256, num_thread=1
ALTER TABLE calls ADD COLUMN repeat INTEGER;    -- the measured run at that point, from 1
ALTER TABLE calls ADD COLUMN warmup INTEGER NOT NULL DEFAULT 0;  -- 1 = warm-up, not a result
ALTER TABLE calls ADD COLUMN trial INTEGER;     -- optimize: the trial the call measured
CREATE TABLE trials (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    number INTEGER NOT NULL,        -- the trial's number in its study, from 0
    point TEXT NOT NULL,
    params_json TEXT NOT NULL,      -- the option values tried
    state TEXT NOT NULL,            -- complete | failed
    objective REAL,                 -- single-objective studies: the value optimized
    decode_tokens_per_s REAL,       -- mean over the trial's measured runs
    ttft_ms REAL,                   -- mean over the trial's measured runs, milliseconds
    runs_ok INTEGER,
    samples_json TEXT,              -- per-run objective and metric values
    error TEXT,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX trials_run ON trials(run_id);
CREATE INDEX calls_run_point ON calls(run_id, point);
""",
    ),
    (
        "003_multiagent",
        """
ALTER TABLE agents ADD COLUMN run_number INTEGER;  -- multiagent: N of run_N, or -K for warm-up K
ALTER TABLE agents ADD COLUMN phase TEXT;          -- multiagent: alone | together
CREATE TABLE scenario_runs (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    run_number INTEGER NOT NULL,
    warmup INTEGER NOT NULL,        -- 1 = warm-up run, left out of the statistics
    scenario TEXT,
    run_order TEXT,                 -- alone-first | together-first
    status TEXT NOT NULL,           -- ok | failed (an agent failed)
    agents INTEGER,
    failed_agents_json TEXT,
    wall_s REAL,                    -- concurrent phase: all launched -> last finished, seconds
    sequential_s REAL,              -- the agents' alone times, summed, seconds
    concurrency_speedup REAL,       -- sequential_s / wall_s
    efficiency_percent REAL,        -- concurrency_speedup / agents x 100
    legacy_concurrency_speedup REAL,  -- old metric: together times summed / wall_s
    contention INTEGER,             -- 1 = some agent's slowdown passed the threshold
    slowdowns_json TEXT,            -- agent id -> together / alone
    agent_times_json TEXT           -- agent id -> {alone_s, together_s}
);
CREATE INDEX scenario_runs_run ON scenario_runs(run_id);
""",
    ),
    (
        "004_validity",
        """
ALTER TABLE scenario_runs ADD COLUMN valid INTEGER;    -- 0 = impossible figures, never averaged
ALTER TABLE scenario_runs ADD COLUMN invalid_reasons_json TEXT;  -- why, with the likely cause
ALTER TABLE scenario_runs ADD COLUMN prompt_nonce INTEGER;  -- 1 = phases' prompts made unique
""",
    ),
    (
        "005_load_requests",
        """
CREATE TABLE requests (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    level INTEGER NOT NULL,         -- load: the level's number in the run, from 0
    idx INTEGER NOT NULL,           -- the request's number in the run, from 0
    warmup INTEGER NOT NULL,        -- 1 = warm-up, left out of the level's figures
    status TEXT NOT NULL,           -- ok | failed | cancelled (in flight when interrupted)
    error_type TEXT,                -- e.g. http_500, stream_cut, empty_response
    error TEXT,
    scheduled_s REAL,               -- open loop: due time, seconds from the level's start
    sent_s REAL,                    -- dispatched, seconds from the level's start
    done_s REAL,                    -- ended, seconds from the level's start
    queue_ms REAL,                  -- dispatch -> first byte out (connection wait)
    ttft_ms REAL,
    e2e_ms REAL,
    itl_ms_mean REAL,
    itl_ms_p50 REAL,
    itl_ms_p99 REAL,
    tpot_ms REAL,                   -- (e2e - ttft) / (output tokens - 1)
    output_tokens INTEGER,
    prompt_tokens INTEGER,
    load_ms REAL,
    prompt_eval_ms REAL,
    eval_ms REAL,
    server_total_ms REAL,
    done_reason TEXT,
    chunks INTEGER,
    estimated_json TEXT
);
CREATE INDEX requests_run ON requests(run_id, level);
CREATE TABLE load_levels (
    id INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    level INTEGER NOT NULL,
    label TEXT NOT NULL,            -- e.g. concurrency 8, 20 req/s poisson
    requests_ok INTEGER,
    requests_failed INTEGER,
    achieved_rate_rps REAL,
    output_tokens_per_s REAL,
    ttft_ms_p99 REAL,
    generator_saturated INTEGER,    -- 1 = the client fell behind: not the server's limit
    summary_json TEXT NOT NULL      -- the whole level summary (chimera load --json)
);
CREATE INDEX load_levels_run ON load_levels(run_id);
""",
    ),
    (
        "006_legacy_import",
        """
ALTER TABLE runs ADD COLUMN origin TEXT;  -- NULL = Chimera, python or rust = an old demo
ALTER TABLE runs ADD COLUMN source_hash TEXT;  -- chimera import: sha256 of the files read
ALTER TABLE calls ADD COLUMN definitions_json TEXT;  -- imported: metric -> the old definition
ALTER TABLE scenario_runs ADD COLUMN legacy_json TEXT;  -- imported: the old figures as written
CREATE UNIQUE INDEX runs_source_hash ON runs(source_hash);
""",
    ),
    (
        "007_agent_analysis",
        """
ALTER TABLE agents ADD COLUMN factsheet TEXT;       -- the numbered facts the analysis cited
ALTER TABLE agents ADD COLUMN analysis_json TEXT;   -- shapes, findings with fact ids, rejections
""",
    ),
    (
        "008_load_ttfot",
        """
ALTER TABLE requests ADD COLUMN ttfot_ms REAL;  -- first token of the answer, after reasoning
ALTER TABLE calls ADD COLUMN ttfot_ms REAL;     -- the same for every call of the other commands
""",
    ),
)
