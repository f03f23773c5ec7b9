package flowdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// athenaColumns are the columns of vpc_flow_logs: every field AWS defines
// for VPC and Transit Gateway flow logs, named as Athena names them ('_'
// for '-'), typed as AWS's Parquet flow logs type them (INT_32 for
// version, ports, protocol, flags and small codes, INT_64 for counts and
// times, text for the rest). Fields no object has are NULL.
var athenaColumns = []struct{ name, typ string }{
	{"version", "INTEGER"}, {"account_id", "VARCHAR"}, {"interface_id", "VARCHAR"},
	{"srcaddr", "VARCHAR"}, {"dstaddr", "VARCHAR"}, {"srcport", "INTEGER"}, {"dstport", "INTEGER"},
	{"protocol", "INTEGER"}, {"packets", "BIGINT"}, {"bytes", "BIGINT"}, {"start", "BIGINT"}, {"end", "BIGINT"},
	{"action", "VARCHAR"}, {"log_status", "VARCHAR"},
	{"vpc_id", "VARCHAR"}, {"subnet_id", "VARCHAR"}, {"instance_id", "VARCHAR"}, {"tcp_flags", "INTEGER"},
	{"type", "VARCHAR"}, {"pkt_srcaddr", "VARCHAR"}, {"pkt_dstaddr", "VARCHAR"},
	{"region", "VARCHAR"}, {"az_id", "VARCHAR"}, {"sublocation_type", "VARCHAR"}, {"sublocation_id", "VARCHAR"},
	{"pkt_src_aws_service", "VARCHAR"}, {"pkt_dst_aws_service", "VARCHAR"}, {"flow_direction", "VARCHAR"},
	{"traffic_path", "INTEGER"},
	{"ecs_cluster_arn", "VARCHAR"}, {"ecs_cluster_name", "VARCHAR"}, {"ecs_container_instance_arn", "VARCHAR"},
	{"ecs_container_instance_id", "VARCHAR"}, {"ecs_container_id", "VARCHAR"}, {"ecs_second_container_id", "VARCHAR"},
	{"ecs_service_name", "VARCHAR"}, {"ecs_task_definition_arn", "VARCHAR"}, {"ecs_task_arn", "VARCHAR"},
	{"ecs_task_id", "VARCHAR"},
	{"reject_reason", "VARCHAR"}, {"resource_id", "VARCHAR"}, {"encryption_status", "INTEGER"},
	{"instance_tag", "VARCHAR"}, {"instance_tag_2", "VARCHAR"}, {"interface_tag", "VARCHAR"},
	{"interface_tag_2", "VARCHAR"}, {"asg_tag", "VARCHAR"}, {"asg_tag_2", "VARCHAR"}, {"interface_type", "VARCHAR"},
	{"next_hop_interface_id", "VARCHAR"}, {"next_hop_subnet_id", "VARCHAR"}, {"next_hop_az_id", "VARCHAR"},
	{"next_hop_vpc_id", "VARCHAR"}, {"next_hop_interface_type", "VARCHAR"},
	{"resource_type", "VARCHAR"}, {"tgw_id", "VARCHAR"}, {"tgw_attachment_id", "VARCHAR"},
	{"tgw_src_vpc_account_id", "VARCHAR"}, {"tgw_dst_vpc_account_id", "VARCHAR"}, {"tgw_src_vpc_id", "VARCHAR"},
	{"tgw_dst_vpc_id", "VARCHAR"}, {"tgw_src_subnet_id", "VARCHAR"}, {"tgw_dst_subnet_id", "VARCHAR"},
	{"tgw_src_eni", "VARCHAR"}, {"tgw_dst_eni", "VARCHAR"}, {"tgw_src_az_id", "VARCHAR"}, {"tgw_dst_az_id", "VARCHAR"},
	{"tgw_pair_attachment_id", "VARCHAR"}, {"packets_lost_no_route", "BIGINT"}, {"packets_lost_blackhole", "BIGINT"},
	{"packets_lost_mtu_exceeded", "BIGINT"}, {"packets_lost_ttl_expired", "BIGINT"},
}

// columnType is the type of an Athena column; unknown fields are text.
func columnType(name string) string {
	for _, c := range athenaColumns {
		if c.name == name {
			return c.typ
		}
	}
	return "VARCHAR"
}

// athenaName is the Athena name of a flow-log field ("account-id" ->
// "account_id").
func athenaName(field string) string { return strings.ReplaceAll(field, "-", "_") }

// formatID names a text format in archived file names: the view reads
// the files of one format with one read_csv.
func formatID(format string) string {
	h := sha256.Sum256([]byte(format))
	return hex.EncodeToString(h[:8])
}

// normFormat is a format with single spaces between field names.
func normFormat(format string) string { return strings.Join(strings.Fields(format), " ") }

// rebuildView (re)creates vpc_flow_logs from the formats the catalog
// holds. The caller holds writeMu.
func (d *DB) rebuildView(ctx context.Context) error {
	rows, err := d.db.QueryContext(ctx, `SELECT DISTINCT format, parquet FROM flow_objects WHERE path <> ''`)
	if err != nil {
		return fmt.Errorf("list formats: %w", err)
	}
	formats := map[string]string{}
	hasParquet := false
	for rows.Next() {
		var f string
		var pq bool
		if err := rows.Scan(&f, &pq); err != nil {
			rows.Close()
			return fmt.Errorf("list formats: %w", err)
		}
		if pq {
			hasParquet = true
		} else {
			formats[formatID(f)] = f
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list formats: %w", err)
	}
	if _, err := d.db.ExecContext(ctx, viewSQL(d.raw, formats, hasParquet)); err != nil {
		return fmt.Errorf("create view vpc_flow_logs: %w", err)
	}
	d.formats, d.parquet = formats, hasParquet
	return nil
}

// viewSQL is the definition of vpc_flow_logs: an empty typed row set with
// every Athena column, then one read_csv per text format and one
// read_parquet for Parquet objects, combined by name so that a column an
// object lacks is NULL. Files live at raw/yyyy/mm/dd/hh/<name>.
func viewSQL(raw string, formats map[string]string, parquet bool) string {
	var b strings.Builder
	b.WriteString("CREATE OR REPLACE VIEW vpc_flow_logs AS\nSELECT ")
	for i, c := range athenaColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "CAST(NULL AS %s) AS %s", c.typ, quoteIdent(c.name))
	}
	b.WriteString(" WHERE false")
	glob := filepath.Join(raw, "*", "*", "*", "*")
	ids := make([]string, 0, len(formats))
	for id := range formats {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		var cols strings.Builder
		seen := map[string]bool{}
		for i, f := range strings.Fields(formats[id]) {
			name := athenaName(f)
			if seen[name] { // a repeated field: keep the columns apart
				name = fmt.Sprintf("%s_%d", name, i+1)
			}
			seen[name] = true
			if i > 0 {
				cols.WriteString(", ")
			}
			cols.WriteString(quoteString(name) + ": " + quoteString(columnType(name)))
		}
		fmt.Fprintf(&b, "\nUNION ALL BY NAME SELECT * FROM read_csv(%s, columns = {%s}, header = true, delim = ' ', quote = '', escape = '', nullstr = '-', auto_detect = false, ignore_errors = true)",
			quoteString(filepath.Join(glob, "t"+id+"-*")), cols.String())
	}
	if parquet {
		fmt.Fprintf(&b, "\nUNION ALL BY NAME SELECT * FROM read_parquet(%s, union_by_name = true)",
			quoteString(filepath.Join(glob, "p-*.parquet")))
	}
	return b.String()
}
