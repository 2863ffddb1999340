namespace Keel.Storage;

/// <summary>One forward-only schema step.</summary>
public sealed record Migration(int Version, string Description, string Sql);

/// <summary>
/// The schema, as ordered forward-only migrations per backend. The same tables and columns in both; types differ
/// only where the dialects do. Prices, quantities and volumes of candles are integers in units of 1e-9; money and
/// order prices are exact decimal text (SQLite) or NUMERIC (PostgreSQL); times are Unix nanoseconds (UTC).
/// Never edit a released migration: add a new one.
/// </summary>
public static class Migrations
{
    public static IReadOnlyList<Migration> Sqlite { get; } =
    [
        new(1, "runs, journal, orders, fills, positions, trades, snapshots, checkpoints, candles", """
            CREATE TABLE runs (
                id TEXT NOT NULL PRIMARY KEY,
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                strategy TEXT NOT NULL,
                parameters TEXT NOT NULL,
                data TEXT NOT NULL,
                spec TEXT NOT NULL,
                out_dir TEXT,
                progress REAL NOT NULL DEFAULT 0,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                started_at INTEGER,
                finished_at INTEGER,
                error TEXT,
                last_sequence INTEGER NOT NULL DEFAULT 0,
                metrics TEXT
            );
            CREATE INDEX runs_created ON runs (created_at);
            CREATE TABLE events (
                run_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                type TEXT NOT NULL,
                time INTEGER NOT NULL,
                payload TEXT NOT NULL,
                PRIMARY KEY (run_id, seq)
            ) WITHOUT ROWID;
            CREATE TABLE orders (
                run_id TEXT NOT NULL,
                client_order_id TEXT NOT NULL,
                number INTEGER NOT NULL,
                instrument TEXT NOT NULL,
                side TEXT NOT NULL,
                type TEXT NOT NULL,
                quantity TEXT NOT NULL,
                limit_price TEXT,
                stop_price TEXT,
                time_in_force TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                filled_quantity TEXT NOT NULL,
                avg_fill_price TEXT,
                commission TEXT NOT NULL,
                contingency TEXT NOT NULL,
                parent_id TEXT,
                venue_order_id TEXT,
                tag TEXT,
                reason TEXT,
                PRIMARY KEY (run_id, client_order_id)
            ) WITHOUT ROWID;
            CREATE TABLE fills (
                run_id TEXT NOT NULL,
                trade_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                client_order_id TEXT NOT NULL,
                instrument TEXT NOT NULL,
                side TEXT NOT NULL,
                quantity TEXT NOT NULL,
                price TEXT NOT NULL,
                commission TEXT NOT NULL,
                realized_pnl TEXT NOT NULL,
                position_after TEXT NOT NULL,
                time INTEGER NOT NULL,
                PRIMARY KEY (run_id, trade_id)
            ) WITHOUT ROWID;
            CREATE TABLE positions (
                run_id TEXT NOT NULL,
                instrument TEXT NOT NULL,
                quantity TEXT NOT NULL,
                cost_basis TEXT NOT NULL,
                realized_pnl TEXT NOT NULL,
                commissions TEXT NOT NULL,
                last_price TEXT NOT NULL,
                updated_at INTEGER NOT NULL,
                PRIMARY KEY (run_id, instrument)
            ) WITHOUT ROWID;
            CREATE TABLE trades (
                run_id TEXT NOT NULL,
                trade_id INTEGER NOT NULL,
                instrument TEXT NOT NULL,
                direction TEXT NOT NULL,
                entry_time INTEGER NOT NULL,
                entry_price TEXT NOT NULL,
                exit_time INTEGER,
                exit_price TEXT,
                quantity TEXT NOT NULL,
                gross_pnl TEXT NOT NULL,
                commission TEXT NOT NULL,
                net_pnl TEXT NOT NULL,
                return REAL NOT NULL,
                bars_held INTEGER NOT NULL,
                PRIMARY KEY (run_id, trade_id)
            ) WITHOUT ROWID;
            CREATE TABLE snapshots (
                run_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                data_events INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                payload TEXT NOT NULL,
                checksum TEXT NOT NULL,
                PRIMARY KEY (run_id, seq)
            ) WITHOUT ROWID;
            CREATE TABLE metrics_checkpoints (
                run_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                processed INTEGER NOT NULL,
                total_return REAL NOT NULL,
                pnl TEXT NOT NULL,
                win_rate REAL,
                max_drawdown REAL NOT NULL,
                sharpe REAL,
                profit_factor REAL,
                created_at INTEGER NOT NULL,
                PRIMARY KEY (run_id, seq)
            ) WITHOUT ROWID;
            CREATE TABLE candles (
                symbol TEXT NOT NULL,
                timeframe TEXT NOT NULL,
                time INTEGER NOT NULL,
                open INTEGER NOT NULL,
                high INTEGER NOT NULL,
                low INTEGER NOT NULL,
                close INTEGER NOT NULL,
                volume INTEGER NOT NULL,
                tick_count INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (symbol, timeframe, time)
            ) WITHOUT ROWID;
            """),
        new(2, "candle gaps: intervals a live feed lost", """
            CREATE TABLE candle_gaps (
                symbol TEXT NOT NULL,
                timeframe TEXT NOT NULL,
                gap_from INTEGER NOT NULL,
                gap_to INTEGER NOT NULL,
                reason TEXT NOT NULL,
                recorded_at INTEGER NOT NULL,
                PRIMARY KEY (symbol, timeframe, gap_from)
            ) WITHOUT ROWID;
            """),
        new(3, "input journal: what the kernel took from its inbox, for replay and exact restart", """
            CREATE TABLE inputs (
                run_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                clock INTEGER NOT NULL,
                kind INTEGER NOT NULL,
                payload TEXT NOT NULL,
                PRIMARY KEY (run_id, seq)
            ) WITHOUT ROWID;
            """),
        new(4, "decision pipeline: decisions, trade journal, order executions, position tracking", """
            CREATE TABLE decisions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                symbol TEXT NOT NULL,
                action TEXT NOT NULL CHECK (action IN ('NEW_TRADE', 'CANCEL', 'AMEND')),
                side TEXT NOT NULL CHECK (side IN ('LONG', 'SHORT')),
                planned_entry TEXT,
                planned_sl TEXT,
                planned_tp TEXT,
                quantity TEXT,
                trade_style TEXT NOT NULL CHECK (trade_style IN ('SWING', 'DAY')),
                target_decision_id INTEGER REFERENCES decisions (id),
                approved INTEGER NOT NULL DEFAULT 0 CHECK (approved IN (0, 1)),
                executed INTEGER NOT NULL DEFAULT 0 CHECK (executed IN (0, 1)),
                outcome TEXT,
                source TEXT,
                note TEXT,
                created_at INTEGER NOT NULL,
                executed_at INTEGER
            );
            CREATE INDEX decisions_pending ON decisions (executed, approved);
            CREATE TABLE trade_journal (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                decision_id INTEGER NOT NULL UNIQUE REFERENCES decisions (id),
                symbol TEXT NOT NULL,
                side TEXT NOT NULL CHECK (side IN ('LONG', 'SHORT')),
                trade_style TEXT NOT NULL CHECK (trade_style IN ('SWING', 'DAY')),
                status TEXT NOT NULL CHECK (status IN ('ORDERED', 'POSITION', 'CLOSED', 'CANCELLED')),
                planned_entry TEXT NOT NULL,
                planned_sl TEXT NOT NULL,
                planned_tp TEXT,
                quantity TEXT NOT NULL,
                actual_entry TEXT,
                actual_qty TEXT,
                exit_price TEXT,
                actual_pnl TEXT,
                exit_reason TEXT CHECK (exit_reason IN ('STOPPED_OUT', 'PROFIT_TAKEN', 'MANUAL_EXIT')),
                entry_time INTEGER,
                exit_time INTEGER,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                CHECK ((status = 'CLOSED') = (exit_reason IS NOT NULL))
            );
            CREATE INDEX trade_journal_status ON trade_journal (status);
            CREATE TRIGGER trade_journal_never_deleted BEFORE DELETE ON trade_journal
            BEGIN
                SELECT RAISE(ABORT, 'trade journal rows are never deleted');
            END;
            CREATE TABLE order_execution (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                trade_id INTEGER NOT NULL REFERENCES trade_journal (id),
                order_type TEXT NOT NULL CHECK (order_type IN ('ENTRY', 'STOP_LOSS', 'TAKE_PROFIT')),
                side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
                quantity TEXT NOT NULL,
                limit_price TEXT,
                stop_price TEXT,
                client_order_id TEXT NOT NULL UNIQUE,
                venue_order_id TEXT,
                order_status TEXT NOT NULL,
                filled_qty TEXT NOT NULL,
                filled_avg_price TEXT,
                filled_at INTEGER,
                submitted_at INTEGER,
                updated_at INTEGER NOT NULL,
                error TEXT,
                UNIQUE (trade_id, order_type)
            );
            CREATE INDEX order_execution_status ON order_execution (order_status);
            CREATE TABLE position_tracking (
                trade_id INTEGER NOT NULL PRIMARY KEY REFERENCES trade_journal (id),
                symbol TEXT NOT NULL,
                qty TEXT NOT NULL,
                avg_entry_price TEXT NOT NULL,
                cost_basis TEXT NOT NULL,
                current_price TEXT NOT NULL,
                market_value TEXT NOT NULL,
                unrealized_pnl TEXT NOT NULL,
                last_updated INTEGER NOT NULL,
                stop_loss_order_id INTEGER REFERENCES order_execution (id),
                take_profit_order_id INTEGER REFERENCES order_execution (id)
            );
            CREATE TRIGGER position_tracking_open_only BEFORE INSERT ON position_tracking
            WHEN (SELECT status FROM trade_journal WHERE id = NEW.trade_id) IS NOT 'POSITION'
            BEGIN
                SELECT RAISE(ABORT, 'a position row is only for a trade with an open position (status POSITION)');
            END;
            CREATE TRIGGER trade_journal_closes_position BEFORE UPDATE OF status ON trade_journal
            WHEN NEW.status IN ('CLOSED', 'CANCELLED') AND EXISTS (SELECT 1 FROM position_tracking WHERE trade_id = NEW.id)
            BEGIN
                SELECT RAISE(ABORT, 'a trade with a position row cannot be closed or cancelled: remove the position row in the same transaction');
            END;
            """),
        new(5, "sweep jobs: the combinations of a parameter sweep shared by several nodes", """
            CREATE TABLE sweep_jobs (
                run_id TEXT NOT NULL,
                idx INTEGER NOT NULL,
                combination BIGINT NOT NULL,
                train_until BIGINT,
                state TEXT NOT NULL DEFAULT 'queued',
                worker TEXT,
                lease_until BIGINT,
                attempts INTEGER NOT NULL DEFAULT 0,
                result TEXT,
                PRIMARY KEY (run_id, idx)
            );
            CREATE INDEX sweep_jobs_open ON sweep_jobs (state, lease_until) WHERE state <> 'done';
            """),
        new(6, "pipeline run: the firings of the scheduled stages (PostgreSQL also gets Quartz's clustered job store)", """
            CREATE TABLE pipeline_firings (
                stage TEXT NOT NULL,
                fire_time INTEGER NOT NULL,
                node TEXT NOT NULL,
                started_at INTEGER NOT NULL,
                finished_at INTEGER,
                outcome TEXT,
                PRIMARY KEY (stage, fire_time)
            );
            """),

        // The rows already in events, orders, fills and trades are moved into chunks by SqliteStore (in the same
        // transaction), which then drops those four tables.
        new(7, "journal chunks: a batch's events, orders, fills and trades stored as one row each", """
            CREATE TABLE journal_chunks (
                run_id TEXT NOT NULL,
                kind INTEGER NOT NULL,
                first_key INTEGER NOT NULL,
                last_key INTEGER NOT NULL,
                rows INTEGER NOT NULL,
                body BLOB NOT NULL,
                PRIMARY KEY (run_id, kind, first_key)
            ) WITHOUT ROWID;
            """),
    ];

    public static IReadOnlyList<Migration> Postgres { get; } =
    [
        new(1, "runs, journal, orders, fills, positions, trades, snapshots, checkpoints, candles", """
            CREATE TABLE runs (
                id TEXT NOT NULL PRIMARY KEY,
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                strategy TEXT NOT NULL,
                parameters TEXT NOT NULL,
                data TEXT NOT NULL,
                spec TEXT NOT NULL,
                out_dir TEXT,
                progress DOUBLE PRECISION NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                started_at BIGINT,
                finished_at BIGINT,
                error TEXT,
                last_sequence BIGINT NOT NULL DEFAULT 0,
                metrics TEXT
            );
            CREATE INDEX runs_created ON runs (created_at);
            CREATE TABLE events (
                run_id TEXT NOT NULL,
                seq BIGINT NOT NULL,
                type TEXT NOT NULL,
                time BIGINT NOT NULL,
                payload TEXT NOT NULL,
                PRIMARY KEY (run_id, seq)
            );
            CREATE TABLE orders (
                run_id TEXT NOT NULL,
                client_order_id TEXT NOT NULL,
                number BIGINT NOT NULL,
                instrument TEXT NOT NULL,
                side TEXT NOT NULL,
                type TEXT NOT NULL,
                quantity NUMERIC NOT NULL,
                limit_price NUMERIC,
                stop_price NUMERIC,
                time_in_force TEXT NOT NULL,
                status TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                filled_quantity NUMERIC NOT NULL,
                avg_fill_price NUMERIC,
                commission NUMERIC NOT NULL,
                contingency TEXT NOT NULL,
                parent_id TEXT,
                venue_order_id TEXT,
                tag TEXT,
                reason TEXT,
                PRIMARY KEY (run_id, client_order_id)
            );
            CREATE TABLE fills (
                run_id TEXT NOT NULL,
                trade_id TEXT NOT NULL,
                seq BIGINT NOT NULL,
                client_order_id TEXT NOT NULL,
                instrument TEXT NOT NULL,
                side TEXT NOT NULL,
                quantity NUMERIC NOT NULL,
                price NUMERIC NOT NULL,
                commission NUMERIC NOT NULL,
                realized_pnl NUMERIC NOT NULL,
                position_after NUMERIC NOT NULL,
                time BIGINT NOT NULL,
                PRIMARY KEY (run_id, trade_id)
            );
            CREATE TABLE positions (
                run_id TEXT NOT NULL,
                instrument TEXT NOT NULL,
                quantity NUMERIC NOT NULL,
                cost_basis NUMERIC NOT NULL,
                realized_pnl NUMERIC NOT NULL,
                commissions NUMERIC NOT NULL,
                last_price NUMERIC NOT NULL,
                updated_at BIGINT NOT NULL,
                PRIMARY KEY (run_id, instrument)
            );
            CREATE TABLE trades (
                run_id TEXT NOT NULL,
                trade_id BIGINT NOT NULL,
                instrument TEXT NOT NULL,
                direction TEXT NOT NULL,
                entry_time BIGINT NOT NULL,
                entry_price NUMERIC NOT NULL,
                exit_time BIGINT,
                exit_price NUMERIC,
                quantity NUMERIC NOT NULL,
                gross_pnl NUMERIC NOT NULL,
                commission NUMERIC NOT NULL,
                net_pnl NUMERIC NOT NULL,
                return DOUBLE PRECISION NOT NULL,
                bars_held BIGINT NOT NULL,
                PRIMARY KEY (run_id, trade_id)
            );
            CREATE TABLE snapshots (
                run_id TEXT NOT NULL,
                seq BIGINT NOT NULL,
                data_events BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                payload TEXT NOT NULL,
                checksum TEXT NOT NULL,
                PRIMARY KEY (run_id, seq)
            );
            CREATE TABLE metrics_checkpoints (
                run_id TEXT NOT NULL,
                seq BIGINT NOT NULL,
                processed BIGINT NOT NULL,
                total_return DOUBLE PRECISION NOT NULL,
                pnl NUMERIC NOT NULL,
                win_rate DOUBLE PRECISION,
                max_drawdown DOUBLE PRECISION NOT NULL,
                sharpe DOUBLE PRECISION,
                profit_factor DOUBLE PRECISION,
                created_at BIGINT NOT NULL,
                PRIMARY KEY (run_id, seq)
            );
            CREATE TABLE candles (
                symbol TEXT NOT NULL,
                timeframe TEXT NOT NULL,
                time BIGINT NOT NULL,
                open BIGINT NOT NULL,
                high BIGINT NOT NULL,
                low BIGINT NOT NULL,
                close BIGINT NOT NULL,
                volume BIGINT NOT NULL,
                tick_count BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (symbol, timeframe, time)
            );
            """),
        new(2, "candle gaps: intervals a live feed lost", """
            CREATE TABLE candle_gaps (
                symbol TEXT NOT NULL,
                timeframe TEXT NOT NULL,
                gap_from BIGINT NOT NULL,
                gap_to BIGINT NOT NULL,
                reason TEXT NOT NULL,
                recorded_at BIGINT NOT NULL,
                PRIMARY KEY (symbol, timeframe, gap_from)
            );
            """),
        new(3, "input journal: what the kernel took from its inbox, for replay and exact restart", """
            CREATE TABLE inputs (
                run_id TEXT NOT NULL,
                seq BIGINT NOT NULL,
                clock BIGINT NOT NULL,
                kind SMALLINT NOT NULL,
                payload TEXT NOT NULL,
                PRIMARY KEY (run_id, seq)
            );
            """),
        new(4, "decision pipeline: decisions, trade journal, order executions, position tracking", """
            CREATE TABLE decisions (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                symbol TEXT NOT NULL,
                action TEXT NOT NULL CHECK (action IN ('NEW_TRADE', 'CANCEL', 'AMEND')),
                side TEXT NOT NULL CHECK (side IN ('LONG', 'SHORT')),
                planned_entry NUMERIC,
                planned_sl NUMERIC,
                planned_tp NUMERIC,
                quantity NUMERIC,
                trade_style TEXT NOT NULL CHECK (trade_style IN ('SWING', 'DAY')),
                target_decision_id BIGINT REFERENCES decisions (id),
                approved INTEGER NOT NULL DEFAULT 0 CHECK (approved IN (0, 1)),
                executed INTEGER NOT NULL DEFAULT 0 CHECK (executed IN (0, 1)),
                outcome TEXT,
                source TEXT,
                note TEXT,
                created_at BIGINT NOT NULL,
                executed_at BIGINT
            );
            CREATE INDEX decisions_pending ON decisions (executed, approved);
            CREATE TABLE trade_journal (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                decision_id BIGINT NOT NULL UNIQUE REFERENCES decisions (id),
                symbol TEXT NOT NULL,
                side TEXT NOT NULL CHECK (side IN ('LONG', 'SHORT')),
                trade_style TEXT NOT NULL CHECK (trade_style IN ('SWING', 'DAY')),
                status TEXT NOT NULL CHECK (status IN ('ORDERED', 'POSITION', 'CLOSED', 'CANCELLED')),
                planned_entry NUMERIC NOT NULL,
                planned_sl NUMERIC NOT NULL,
                planned_tp NUMERIC,
                quantity NUMERIC NOT NULL,
                actual_entry NUMERIC,
                actual_qty NUMERIC,
                exit_price NUMERIC,
                actual_pnl NUMERIC,
                exit_reason TEXT CHECK (exit_reason IN ('STOPPED_OUT', 'PROFIT_TAKEN', 'MANUAL_EXIT')),
                entry_time BIGINT,
                exit_time BIGINT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                CHECK ((status = 'CLOSED') = (exit_reason IS NOT NULL))
            );
            CREATE INDEX trade_journal_status ON trade_journal (status);
            CREATE FUNCTION keel_trade_journal_never_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'trade journal rows are never deleted';
            END $$;
            CREATE TRIGGER trade_journal_never_deleted BEFORE DELETE ON trade_journal
                FOR EACH ROW EXECUTE FUNCTION keel_trade_journal_never_deleted();
            CREATE TABLE order_execution (
                id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                trade_id BIGINT NOT NULL REFERENCES trade_journal (id),
                order_type TEXT NOT NULL CHECK (order_type IN ('ENTRY', 'STOP_LOSS', 'TAKE_PROFIT')),
                side TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
                quantity NUMERIC NOT NULL,
                limit_price NUMERIC,
                stop_price NUMERIC,
                client_order_id TEXT NOT NULL UNIQUE,
                venue_order_id TEXT,
                order_status TEXT NOT NULL,
                filled_qty NUMERIC NOT NULL,
                filled_avg_price NUMERIC,
                filled_at BIGINT,
                submitted_at BIGINT,
                updated_at BIGINT NOT NULL,
                error TEXT,
                UNIQUE (trade_id, order_type)
            );
            CREATE INDEX order_execution_status ON order_execution (order_status);
            CREATE TABLE position_tracking (
                trade_id BIGINT NOT NULL PRIMARY KEY REFERENCES trade_journal (id),
                symbol TEXT NOT NULL,
                qty NUMERIC NOT NULL,
                avg_entry_price NUMERIC NOT NULL,
                cost_basis NUMERIC NOT NULL,
                current_price NUMERIC NOT NULL,
                market_value NUMERIC NOT NULL,
                unrealized_pnl NUMERIC NOT NULL,
                last_updated BIGINT NOT NULL,
                stop_loss_order_id BIGINT REFERENCES order_execution (id),
                take_profit_order_id BIGINT REFERENCES order_execution (id)
            );
            CREATE FUNCTION keel_position_tracking_open_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF (SELECT status FROM trade_journal WHERE id = NEW.trade_id) IS DISTINCT FROM 'POSITION' THEN
                    RAISE EXCEPTION 'a position row is only for a trade with an open position (status POSITION)';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER position_tracking_open_only BEFORE INSERT ON position_tracking
                FOR EACH ROW EXECUTE FUNCTION keel_position_tracking_open_only();
            CREATE FUNCTION keel_trade_journal_closes_position() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.status IN ('CLOSED', 'CANCELLED') AND EXISTS (SELECT 1 FROM position_tracking WHERE trade_id = NEW.id) THEN
                    RAISE EXCEPTION 'a trade with a position row cannot be closed or cancelled: remove the position row in the same transaction';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER trade_journal_closes_position BEFORE UPDATE OF status ON trade_journal
                FOR EACH ROW EXECUTE FUNCTION keel_trade_journal_closes_position();
            """),
        new(5, "sweep jobs: the combinations of a parameter sweep shared by several nodes", """
            CREATE TABLE sweep_jobs (
                run_id TEXT NOT NULL,
                idx INTEGER NOT NULL,
                combination BIGINT NOT NULL,
                train_until BIGINT,
                state TEXT NOT NULL DEFAULT 'queued',
                worker TEXT,
                lease_until BIGINT,
                attempts INTEGER NOT NULL DEFAULT 0,
                result TEXT,
                PRIMARY KEY (run_id, idx)
            );
            CREATE INDEX sweep_jobs_open ON sweep_jobs (state, lease_until) WHERE state <> 'done';
            """),
        // The qrtz_* tables are Quartz.NET 4.7.3's own create_postgres.sql (an embedded resource of Quartz.dll) with the
        // table prefix qrtz_; the job store validates them at start (SchemaProvisioning.Validate). A Quartz upgrade that
        // changes them comes with a new migration here.
        new(6, "pipeline run: the firings of the scheduled stages, and Quartz.NET 4.7.3's clustered job store (qrtz_*)", """
            CREATE TABLE pipeline_firings (
                stage TEXT NOT NULL,
                fire_time BIGINT NOT NULL,
                node TEXT NOT NULL,
                started_at BIGINT NOT NULL,
                finished_at BIGINT,
                outcome TEXT,
                PRIMARY KEY (stage, fire_time)
            );
            CREATE TABLE IF NOT EXISTS qrtz_job_details (
              sched_name text not null,
              job_name text not null,
              job_group text not null,
              description text null,
              job_class_name text not null,
              is_durable bool not null,
              is_nonconcurrent bool not null,
              is_update_data bool not null,
              requests_recovery bool not null,
              job_data bytea null,
              primary key (sched_name,job_name,job_group)
            );
            CREATE TABLE IF NOT EXISTS qrtz_triggers (
              sched_name text not null,
              trigger_name text not null,
              trigger_group text not null,
              job_name text not null,
              job_group text not null,
              description text null,
              next_fire_time bigint null,
              prev_fire_time bigint null,
              priority integer null,
              trigger_state text not null,
              trigger_type text not null,
              start_time bigint not null,
              end_time bigint null,
              calendar_name text null,
              misfire_instr smallint null,
              misfire_orig_fire_time bigint null,
              execution_group varchar(200) null,
              preferred_node varchar(200) null,
              preferred_node_auto bool not null default false,
              retry_policy varchar(250) null,
              retry_attempt integer null,
              continues_trigger_name text null,
              continues_trigger_group text null,
              continuation_condition integer null,
              overlap_policy integer null,
              pause_reason varchar(250) null,
              paused_by varchar(200) null,
              paused_at bigint null,
              misfire_threshold bigint null,
              fixed_delay bool null,
              job_data bytea null,
              primary key (sched_name,trigger_name,trigger_group),
              foreign key (sched_name,job_name,job_group) references qrtz_job_details (sched_name,job_name,job_group)
            );
            CREATE TABLE IF NOT EXISTS qrtz_simple_triggers (
              sched_name text not null,
              trigger_name text not null,
              trigger_group text not null,
              repeat_count bigint not null,
              repeat_interval bigint not null,
              times_triggered bigint not null,
              primary key (sched_name,trigger_name,trigger_group),
              foreign key (sched_name,trigger_name,trigger_group) references qrtz_triggers (sched_name,trigger_name,trigger_group) on delete cascade
            );
            CREATE TABLE IF NOT EXISTS qrtz_cron_triggers (
              sched_name text not null,
              trigger_name text not null,
              trigger_group text not null,
              cron_expression text not null,
              time_zone_id text,
              primary key (sched_name,trigger_name,trigger_group),
              foreign key (sched_name,trigger_name,trigger_group) references qrtz_triggers (sched_name,trigger_name,trigger_group) on delete cascade
            );
            CREATE TABLE IF NOT EXISTS qrtz_simprop_triggers (
              sched_name text not null,
              trigger_name text not null,
              trigger_group text not null,
              str_prop_1 text null,
              str_prop_2 text null,
              str_prop_3 text null,
              int_prop_1 integer null,
              int_prop_2 integer null,
              long_prop_1 bigint null,
              long_prop_2 bigint null,
              dec_prop_1 numeric null,
              dec_prop_2 numeric null,
              bool_prop_1 bool null,
              bool_prop_2 bool null,
              time_zone_id text null,
              primary key (sched_name,trigger_name,trigger_group),
              foreign key (sched_name,trigger_name,trigger_group) references qrtz_triggers (sched_name,trigger_name,trigger_group) on delete cascade
            );
            CREATE TABLE IF NOT EXISTS qrtz_blob_triggers (
              sched_name text not null,
              trigger_name text not null,
              trigger_group text not null,
              blob_data bytea null,
              primary key (sched_name,trigger_name,trigger_group),
              foreign key (sched_name,trigger_name,trigger_group) references qrtz_triggers (sched_name,trigger_name,trigger_group) on delete cascade
            );
            CREATE TABLE IF NOT EXISTS qrtz_calendars (
              sched_name text not null,
              calendar_name text not null,
              calendar bytea not null,
              primary key (sched_name,calendar_name)
            );
            CREATE TABLE IF NOT EXISTS qrtz_paused_trigger_grps (
              sched_name text not null,
              trigger_group text not null,
              pause_reason varchar(250) null,
              paused_by varchar(200) null,
              paused_at bigint null,
              primary key (sched_name,trigger_group)
            );
            CREATE TABLE IF NOT EXISTS qrtz_paused_job_grps (
              sched_name text not null,
              job_group text not null,
              pause_reason varchar(250) null,
              paused_by varchar(200) null,
              paused_at bigint null,
              primary key (sched_name,job_group)
            );
            CREATE TABLE IF NOT EXISTS qrtz_fired_triggers (
              sched_name text not null,
              entry_id text not null,
              trigger_name text not null,
              trigger_group text not null,
              instance_name text not null,
              fired_time bigint not null,
              sched_time bigint not null,
              priority integer not null,
              state text not null,
              job_name text null,
              job_group text null,
              is_nonconcurrent bool not null,
              requests_recovery bool null,
              execution_group varchar(200) null,
              progress integer null,
              progress_message varchar(250) null,
              interrupt_requested_time bigint null,
              primary key (sched_name,entry_id)
            );
            CREATE TABLE IF NOT EXISTS qrtz_scheduler_state (
              sched_name text not null,
              instance_name text not null,
              last_checkin_time bigint not null,
              checkin_interval bigint not null,
              quartz_version varchar(20) null,
              primary key (sched_name,instance_name)
            );
            CREATE TABLE IF NOT EXISTS qrtz_locks (
              sched_name text not null,
              lock_name text not null,
              primary key (sched_name,lock_name)
            );
            CREATE TABLE IF NOT EXISTS qrtz_execution_history (
              sched_name text not null,
              entry_id text not null,
              instance_name text not null,
              job_name text not null,
              job_group text not null,
              trigger_name text not null,
              trigger_group text not null,
              fired_time bigint not null,
              run_time bigint not null,
              succeeded bool not null,
              error_message text null,
              retry_attempt integer not null default 0,
              retry_scheduled bool not null default false,
              execution_log text null,
              result integer null,
              summary text null,
              metrics text null,
              manual bool null,
              fire_instance_id text null,
              job_input text null,
              job_input_too_large bool null,
              primary key (sched_name,entry_id)
            );
            CREATE TABLE IF NOT EXISTS qrtz_misfire_history (
              sched_name text not null,
              entry_id text not null,
              instance_name text not null,
              trigger_name text not null,
              trigger_group text not null,
              job_name text null,
              job_group text null,
              misfire_time bigint not null,
              sched_time bigint null,
              reason integer null,
              primary key (sched_name,entry_id)
            );
            CREATE TABLE IF NOT EXISTS qrtz_job_status (
              sched_name text not null,
              job_group text not null,
              job_name text not null,
              first_fired_time bigint not null,
              last_fired_time bigint not null,
              last_result integer not null,
              last_run_time bigint not null,
              last_instance_name text not null,
              last_entry_id text null,
              last_summary text null,
              last_success_time bigint null,
              last_failure_time bigint null,
              last_failure_message text null,
              consecutive_failures integer not null default 0,
              run_count bigint not null default 0,
              failure_count bigint not null default 0,
              primary key (sched_name,job_group,job_name)
            );
            CREATE INDEX IF NOT EXISTS idx_qrtz_j_g_n ON qrtz_job_details (sched_name, job_group, job_name);
            CREATE INDEX IF NOT EXISTS idx_qrtz_t_j ON qrtz_triggers (sched_name, job_name, job_group);
            CREATE INDEX IF NOT EXISTS idx_qrtz_t_g_n ON qrtz_triggers (sched_name, trigger_group, trigger_name);
            CREATE INDEX IF NOT EXISTS idx_qrtz_t_c ON qrtz_triggers (sched_name, calendar_name);
            CREATE INDEX IF NOT EXISTS idx_qrtz_t_nft_st ON qrtz_triggers (sched_name, trigger_state, next_fire_time asc, priority desc, misfire_instr);
            CREATE INDEX IF NOT EXISTS idx_qrtz_ft_inst_job_req_rcvry ON qrtz_fired_triggers (sched_name, instance_name, requests_recovery);
            CREATE INDEX IF NOT EXISTS idx_qrtz_ft_j_g ON qrtz_fired_triggers (sched_name, job_name, job_group);
            CREATE INDEX IF NOT EXISTS idx_qrtz_ft_t_g ON qrtz_fired_triggers (sched_name, trigger_name, trigger_group);
            CREATE INDEX IF NOT EXISTS idx_qrtz_eh_fired_time ON qrtz_execution_history (sched_name, fired_time);
            CREATE INDEX IF NOT EXISTS idx_qrtz_eh_inst ON qrtz_execution_history (sched_name, instance_name);
            CREATE INDEX IF NOT EXISTS idx_qrtz_mh_misfire_time ON qrtz_misfire_history (sched_name, misfire_time);
            CREATE INDEX IF NOT EXISTS idx_qrtz_mh_inst ON qrtz_misfire_history (sched_name, instance_name);
            CREATE INDEX IF NOT EXISTS idx_qrtz_eh_job_time ON qrtz_execution_history (sched_name, job_group, job_name, fired_time);
            CREATE INDEX IF NOT EXISTS idx_qrtz_eh_fire_inst ON qrtz_execution_history (sched_name, fire_instance_id);
            CREATE INDEX IF NOT EXISTS idx_qrtz_eh_trig_time ON qrtz_execution_history (sched_name, trigger_group, trigger_name, fired_time);
            """),

        // As SQLite's version 7. The rows already in events, orders, fills and trades are moved into chunks by
        // PostgresStore (in the same transaction), which then drops those four tables. The bodies are compressed already:
        // EXTERNAL storage keeps PostgreSQL from trying again (a large body is still stored out of line).
        new(7, "journal chunks: a batch's events, orders, fills and trades stored as one row each", """
            CREATE TABLE journal_chunks (
                run_id TEXT NOT NULL,
                kind INTEGER NOT NULL,
                first_key BIGINT NOT NULL,
                last_key BIGINT NOT NULL,
                rows BIGINT NOT NULL,
                body BYTEA NOT NULL,
                PRIMARY KEY (run_id, kind, first_key)
            );
            ALTER TABLE journal_chunks ALTER COLUMN body SET STORAGE EXTERNAL;
            """),
    ];

    /// <summary>
    /// Every table whose rows belong to one run (keyed by <c>run_id</c>); deleting a run deletes from each, then from
    /// <c>runs</c>. A migration that adds such a table adds it here (a test checks the schema). Both stores keep a run's
    /// events, orders, fills and trades in <c>journal_chunks</c> (schema version 7 of each).
    /// </summary>
    public static IReadOnlyList<string> RunTables { get; } = ["journal_chunks", "positions", "snapshots", "metrics_checkpoints", "inputs", "sweep_jobs"];

    public static int Latest(IReadOnlyList<Migration> migrations) => migrations[^1].Version;
}
