// statusmodel.test.js: node --test web/src (make ui-test).
import assert from "node:assert/strict";
import { test } from "node:test";
import { blocked, deniedActions, regionStates } from "./statusmodel.js";

const call = (account, region, api, outcome, detail = "") => ({ account, region, api, outcome, detail, calls: 1 });

test("blocked names the SDK's operation, else the action's", () => {
  assert.equal(blocked(call("1", "eu-west-1", "s3:ListBucket", "denied",
    "operation error S3: ListObjectsV2, https response error StatusCode: 403, api error AccessDenied")), "S3 ListObjectsV2");
  assert.equal(blocked(call("1", "eu-west-1", "ec2:DescribeInstances", "denied", "AccessDenied")), "ec2 DescribeInstances");
  assert.equal(blocked(call("1", "eu-west-1", "odd", "denied")), "odd");
});

test("deniedActions groups an account's denials by action, with their regions", () => {
  const calls = [
    call("1", "us-east-1", "rds:DescribeDBInstances", "denied"),
    call("1", "eu-west-1", "rds:DescribeDBInstances", "denied"),
    call("1", "eu-west-1", "ec2:DescribeInstances", "denied", "operation error EC2: DescribeInstances, AccessDenied"),
    call("1", "eu-west-1", "ec2:DescribeVpcs", "ok"),
    call("2", "eu-west-1", "lambda:ListFunctions", "denied"),
  ];
  assert.deepEqual(deniedActions("1", calls), [
    { action: "ec2:DescribeInstances", regions: ["eu-west-1"], blocks: ["EC2 DescribeInstances"] },
    { action: "rds:DescribeDBInstances", regions: ["eu-west-1", "us-east-1"], blocks: ["rds DescribeDBInstances"] },
  ]);
  assert.deepEqual(deniedActions("3", calls), []);
});

test("regionStates: connected, partially connected, failed", () => {
  const rows = regionStates([
    call("1", "us-east-1", "a:A", "ok"),
    call("1", "eu-west-1", "a:A", "ok"),
    call("1", "eu-west-1", "a:B", "denied"),
    call("1", "ap-south-1", "a:A", "failed"),
    call("1", "ap-south-1", "a:B", "denied"),
  ]);
  assert.deepEqual(rows.map((r) => [r.region, r.state, r.ok, r.denied, r.failed]), [
    ["ap-south-1", "failed", 0, 1, 1],
    ["eu-west-1", "partially connected", 1, 1, 0],
    ["us-east-1", "connected", 1, 0, 0],
  ]);
});
