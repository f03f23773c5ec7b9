package clickhouse

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// recordColumns are the columns of vpc_flow_logs, as flowdb's: every field
// AWS defines for VPC and Transit Gateway flow logs, named as Athena names
// them, typed as AWS's Parquet flow logs type them, NULL where an object
// lacks the field or has "-". The list is migration 1's: a field added
// later needs a migration adding its column.
var recordColumns = []struct{ name, typ string }{
	{"version", "Int32"}, {"account_id", "String"}, {"interface_id", "String"},
	{"srcaddr", "String"}, {"dstaddr", "String"}, {"srcport", "Int32"}, {"dstport", "Int32"},
	{"protocol", "Int32"}, {"packets", "Int64"}, {"bytes", "Int64"}, {"start", "Int64"}, {"end", "Int64"},
	{"action", "String"}, {"log_status", "String"},
	{"vpc_id", "String"}, {"subnet_id", "String"}, {"instance_id", "String"}, {"tcp_flags", "Int32"},
	{"type", "String"}, {"pkt_srcaddr", "String"}, {"pkt_dstaddr", "String"},
	{"region", "String"}, {"az_id", "String"}, {"sublocation_type", "String"}, {"sublocation_id", "String"},
	{"pkt_src_aws_service", "String"}, {"pkt_dst_aws_service", "String"}, {"flow_direction", "String"},
	{"traffic_path", "Int32"},
	{"ecs_cluster_arn", "String"}, {"ecs_cluster_name", "String"}, {"ecs_container_instance_arn", "String"},
	{"ecs_container_instance_id", "String"}, {"ecs_container_id", "String"}, {"ecs_second_container_id", "String"},
	{"ecs_service_name", "String"}, {"ecs_task_definition_arn", "String"}, {"ecs_task_arn", "String"},
	{"ecs_task_id", "String"},
	{"reject_reason", "String"}, {"resource_id", "String"}, {"encryption_status", "Int32"},
	{"instance_tag", "String"}, {"instance_tag_2", "String"}, {"interface_tag", "String"},
	{"interface_tag_2", "String"}, {"asg_tag", "String"}, {"asg_tag_2", "String"}, {"interface_type", "String"},
	{"next_hop_interface_id", "String"}, {"next_hop_subnet_id", "String"}, {"next_hop_az_id", "String"},
	{"next_hop_vpc_id", "String"}, {"next_hop_interface_type", "String"},
	{"resource_type", "String"}, {"tgw_id", "String"}, {"tgw_attachment_id", "String"},
	{"tgw_src_vpc_account_id", "String"}, {"tgw_dst_vpc_account_id", "String"}, {"tgw_src_vpc_id", "String"},
	{"tgw_dst_vpc_id", "String"}, {"tgw_src_subnet_id", "String"}, {"tgw_dst_subnet_id", "String"},
	{"tgw_src_eni", "String"}, {"tgw_dst_eni", "String"}, {"tgw_src_az_id", "String"}, {"tgw_dst_az_id", "String"},
	{"tgw_pair_attachment_id", "String"}, {"packets_lost_no_route", "Int64"}, {"packets_lost_blackhole", "Int64"},
	{"packets_lost_mtu_exceeded", "Int64"}, {"packets_lost_ttl_expired", "Int64"},
}

// rawColumns are the fields flow_raw keeps in columns of their own, by
// name in recordColumns: the default format's and the VPC fields most
// formats add. They are not Nullable: an absent field or "-" is stored as
// the type's default and its bit set in the row's nulls (bit i for
// rawColumns[i]). Every other field is kept as text in the arrays
// extra_keys and extra_values, as named in recordColumns or, for a field
// it lacks, with the header's hyphens made underscores.
var rawColumns = []string{"version", "account_id", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport",
	"protocol", "packets", "bytes", "start", "end", "action", "log_status", "vpc_id", "subnet_id", "instance_id",
	"tcp_flags"}

// recordType is the type of recordColumns' column name, "" for none.
func recordType(name string) string {
	for _, c := range recordColumns {
		if c.name == name {
			return c.typ
		}
	}
	return ""
}

// rollupColumns are flow_rollups' columns, as flowdb's.
var rollupColumns = []struct{ name, typ string }{
	{"minute", "DateTime('UTC')"}, {"account", "String"}, {"region", "String"}, {"interface_id", "String"},
	{"reporter", "String"}, {"client", "String"}, {"server", "String"}, {"client_addr", "String"},
	{"server_addr", "String"}, {"server_port", "UInt16"}, {"protocol", "UInt8"}, {"action", "String"},
	{"bytes_to_server", "UInt64"}, {"bytes_to_client", "UInt64"}, {"packets_to_server", "UInt64"},
	{"packets_to_client", "UInt64"}, {"records", "UInt64"}, {"client_addr_key", "String"}, {"server_addr_key", "String"},
}

// objectColumns are flow_objects' columns: the catalog of committed
// objects. object is the hash naming (bucket, key, etag), attempt the
// commit that wrote the object's rows; rollups_last is the last minute of
// its rollups (0 when none).
var objectColumns = []string{"object", "attempt", "bucket", "`key`", "etag", "account", "region", "format", "parquet",
	"start", "`end`", "records", "malformed", "raw_records", "rollups", "rollups_last", "committed_at"}

// committed selects the (object, attempt) pairs whose rows count: one
// attempt per object, the same whichever rows race.
func committed(db string) string {
	return "SELECT object, min(attempt) FROM " + db + ".flow_objects GROUP BY object"
}

// migrations are the schema's versions: migrations[i] brings a database
// from version i to i+1. They only ever get appended to.
var migrations = []func(db string) []string{
	func(db string) []string {
		var rec, recNames, roll, rollNames []string
		for _, c := range recordColumns {
			rec = append(rec, fmt.Sprintf("`%s` Nullable(%s)", c.name, c.typ))
			recNames = append(recNames, "`"+c.name+"`")
		}
		for _, c := range rollupColumns {
			roll = append(roll, fmt.Sprintf("`%s` %s", c.name, c.typ))
			rollNames = append(rollNames, "`"+c.name+"`")
		}
		return []string{
			`CREATE TABLE IF NOT EXISTS ` + db + `.flow_objects (
				object String, attempt UInt64, bucket String, ` + "`key`" + ` String, etag String,
				account String, region String, format String, parquet UInt8,
				start DateTime('UTC'), ` + "`end`" + ` DateTime('UTC'), records Int64, malformed Int64,
				raw_records UInt64, rollups UInt64, rollups_last DateTime('UTC'), committed_at DateTime('UTC')
			) ENGINE = MergeTree ORDER BY (object, attempt)`,
			`CREATE TABLE IF NOT EXISTS ` + db + `.flow_records (object String, attempt UInt64, object_end DateTime('UTC'), ` +
				strings.Join(rec, ", ") + `) ENGINE = MergeTree PARTITION BY toYYYYMMDD(object_end) ORDER BY (object, attempt)`,
			`CREATE TABLE IF NOT EXISTS ` + db + `.flow_rollup_rows (object String, attempt UInt64, ` + strings.Join(roll, ", ") +
				`) ENGINE = MergeTree PARTITION BY toYYYYMMDD(minute) ORDER BY (minute, client, server, server_port, protocol)`,
			`CREATE TABLE IF NOT EXISTS ` + db + `.components (id String, type String, name String, account String, region String,
				layer String, environment String, labels Array(String), identifiers Array(String), data String
			) ENGINE = MergeTree ORDER BY id`,
			`CREATE VIEW IF NOT EXISTS ` + db + `.vpc_flow_logs AS SELECT ` + strings.Join(recNames, ", ") +
				` FROM ` + db + `.flow_records WHERE (object, attempt) IN (` + committed(db) + `)`,
			`CREATE VIEW IF NOT EXISTS ` + db + `.flow_rollups AS SELECT ` + strings.Join(rollNames, ", ") +
				` FROM ` + db + `.flow_rollup_rows WHERE (object, attempt) IN (` + committed(db) + `)`,
		}
	},
	// Version 2: raw records move to flow_raw, narrower and not Nullable,
	// which ClickHouse inserts several times faster than flow_records'
	// 73 Nullable columns; vpc_flow_logs shows the same columns as before.
	// The copy skips the attempts already copied, so that a migration
	// interrupted after it copies nothing twice when run again.
	func(db string) []string {
		var raw, rawNames []string
		for _, name := range rawColumns {
			raw = append(raw, fmt.Sprintf("`%s` %s", name, recordType(name)))
			rawNames = append(rawNames, "`"+name+"`")
		}
		// Old rows: a NULL becomes the default and its bit; fields
		// without a column of their own go to the arrays.
		var nulls, extraKeys, extraValues []string
		for i, name := range rawColumns {
			nulls = append(nulls, fmt.Sprintf("if(isNull(`%s`), %d, 0)", name, 1<<i))
			rawNames[i] = fmt.Sprintf("ifNull(`%s`, %s)", name, map[bool]string{true: "''", false: "0"}[recordType(name) == "String"])
		}
		for _, c := range recordColumns {
			if slices.Contains(rawColumns, c.name) {
				continue
			}
			extraKeys = append(extraKeys, fmt.Sprintf("if(isNull(`%s`), '', '%s')", c.name, c.name))
			extraValues = append(extraValues, fmt.Sprintf("ifNull(toString(`%s`), '')", c.name))
		}
		return []string{
			`CREATE TABLE IF NOT EXISTS ` + db + `.flow_raw (object String, attempt UInt64, object_end DateTime('UTC'),
				nulls UInt32, ` + strings.Join(raw, ", ") + `, extra_keys Array(String), extra_values Array(String)
			) ENGINE = MergeTree PARTITION BY toYYYYMMDD(object_end) ORDER BY (start, interface_id, srcaddr)`,
			`INSERT INTO ` + db + `.flow_raw SELECT object, attempt, object_end, ` + strings.Join(nulls, " + ") + `, ` +
				strings.Join(rawNames, ", ") + `, arrayFilter(k -> k != '', [` + strings.Join(extraKeys, ", ") + `]),
				arrayFilter((v, k) -> k != '', [` + strings.Join(extraValues, ", ") + `], [` + strings.Join(extraKeys, ", ") + `])
				FROM ` + db + `.flow_records WHERE (object, attempt) NOT IN (SELECT object, attempt FROM ` + db + `.flow_raw)`,
			`DROP TABLE IF EXISTS ` + db + `.vpc_flow_logs`,
			`CREATE VIEW IF NOT EXISTS ` + db + `.vpc_flow_logs AS SELECT ` + strings.Join(viewColumns(), ", ") +
				` FROM ` + db + `.flow_raw WHERE (object, attempt) IN (` + committed(db) + `)`,
		}
	},
	// Version 3 drops flow_records, emptied into flow_raw by version 2; a
	// version of its own so that version 2 runs again whole until done.
	func(db string) []string { return []string{`DROP TABLE IF EXISTS ` + db + `.flow_records`} },
}

// viewColumns are vpc_flow_logs' columns over flow_raw: recordColumns,
// Nullable as before, then extra_keys and extra_values.
func viewColumns() []string {
	var cols []string
	for _, c := range recordColumns {
		if i := slices.Index(rawColumns, c.name); i >= 0 {
			cols = append(cols, fmt.Sprintf("if(bitTest(nulls, %d), NULL, `%s`) AS `%[2]s`", i, c.name))
			continue
		}
		v := fmt.Sprintf("extra_values[indexOf(extra_keys, '%s')]", c.name)
		if c.typ == "String" {
			cols = append(cols, fmt.Sprintf("nullIf(%s, '') AS `%s`", v, c.name))
		} else {
			cols = append(cols, fmt.Sprintf("to%sOrNull(%s) AS `%s`", c.typ, v, c.name))
		}
	}
	return append(cols, "extra_keys", "extra_values")
}

// migrate brings the schema to the current version. Concurrent workers may
// run it at once: every statement is idempotent, and a version's row is
// inserted after its statements.
func (d *DB) migrate(ctx context.Context) error {
	db := d.opts.Database
	if err := d.c.exec(ctx, `CREATE TABLE IF NOT EXISTS `+db+`.schema_migrations (version UInt32, applied_at DateTime('UTC'))
		ENGINE = MergeTree ORDER BY version`, nil); err != nil {
		return fmt.Errorf("clickhouse: create schema_migrations: %w", err)
	}
	v, err := d.schemaVersion(ctx)
	if err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("%w: database %s has schema version %d, this skymap knows up to %d: upgrade skymap",
			ErrSchemaTooNew, db, v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		for _, stmt := range migrations[v](db) {
			if err := d.c.exec(ctx, stmt, nil); err != nil {
				return fmt.Errorf("clickhouse: migrate %s to version %d: %w", db, v+1, err)
			}
		}
		if err := d.c.exec(ctx, fmt.Sprintf(`INSERT INTO %s.schema_migrations VALUES (%d, %s)`, db, v+1,
			dateTime(d.opts.Now())), nil); err != nil {
			return fmt.Errorf("clickhouse: migrate %s to version %d: %w", db, v+1, err)
		}
	}
	return nil
}

// schemaVersion is the version the database's schema is at.
func (d *DB) schemaVersion(ctx context.Context) (int, error) {
	r, err := d.c.query(ctx, `SELECT max(version) FROM `+d.opts.Database+`.schema_migrations`, nil)
	if err != nil {
		return 0, fmt.Errorf("clickhouse: read schema version: %w", err)
	}
	if len(r.Data) != 1 || len(r.Data[0]) != 1 {
		return 0, fmt.Errorf("clickhouse: read schema version: %d rows", len(r.Data))
	}
	n, err := integer(r.Data[0][0])
	if err != nil {
		return 0, fmt.Errorf("clickhouse: read schema version: %w", err)
	}
	return int(n), nil
}
