import { test } from "node:test";
import assert from "node:assert/strict";
import { describe, groupOf, kindOf, resolveView, splitList } from "./views.js";

const views = [
  { id: "aws-every-instance-all", name: "AWS - every instance - All", builtin: true, filter: {} },
  { id: "aws-every-instance-serverless", name: "AWS - every instance - Serverless", builtin: true, filter: {} },
  { id: "aws-prod-all", name: "AWS - prod - All", builtin: true, instance: "prod", filter: { accounts: ["123456789012"] } },
  { id: "aws-prod-serverless", name: "AWS - prod - Serverless", builtin: true, instance: "prod", filter: {} },
  { id: "v-1", name: "Team - web", builtin: false, filter: { labels: ["team:web"] } },
];

test("a route names a view by id, or by kind within the current instance", () => {
  assert.equal(resolveView(views, "v-1").id, "v-1");
  assert.equal(resolveView(views, "All").id, "aws-every-instance-all");
  assert.equal(resolveView(views, "Serverless", views[2]).id, "aws-prod-serverless");
  assert.equal(resolveView(views, "Serverless", views[4]).id, "aws-every-instance-serverless");
  assert.equal(resolveView(views, "Infrastructure"), null);
  assert.equal(resolveView(views, "v-gone"), null);
});

test("built-in views have a kind and group by instance", () => {
  assert.deepEqual(views.map(kindOf), ["All", "Serverless", "All", "Serverless", ""]);
  assert.deepEqual(views.map(groupOf), ["AWS - every instance", "AWS - every instance", "AWS - prod", "AWS - prod", "Your views"]);
});

test("filters read as words, lists split as typed", () => {
  assert.equal(describe({ layers: ["Machines", "Storage"], labels: ["a:b", "c:*"], name: "web" }),
    "layer Machines or Storage; labels a:b and c:*; name contains “web”");
  assert.equal(describe({}), "every component");
  assert.deepEqual(splitList(" aws.s3.bucket,aws.sqs.queue  aws.sns.topic ,"), ["aws.s3.bucket", "aws.sqs.queue", "aws.sns.topic"]);
  assert.deepEqual(splitList("Name:web server, env:prod", /,/), ["Name:web server", "env:prod"]);
});
