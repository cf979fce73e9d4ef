#!/usr/bin/env python3
"""Hold template.yaml and the Dockerfile to the code's deployment contract.

The code's side comes from `cargo run --quiet --example contract` (routes,
environment variables, table schema, metric names; src/config/contract.rs), passed
in with --contract. The template is checked as written and as the SAM
translator turns it into CloudFormation (offline: the managed-policy lookup
is stubbed), so a SAM quirk that changes meaning in translation is caught too.

README.md's table design is held to the code too: every kind of item the
store writes, found by the partition-key prefixes of the string literals under
src/ (`"COMMENT#"`, `format!("SUB#{id}")`, ...), has a row, and every row
names a prefix the code writes.

    template_check.py --contract contract.json [--translated-out out.json]
    template_check.py --contract contract.json --self-test

--self-test breaks a copy of the inputs in each way the check claims to catch
and fails unless every break is reported: a check that cannot fail proves
nothing.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import re
import sys
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent

# The DynamoDB actions the store calls; TransactWriteItems is authorised per
# item by Put/Update/Delete/ConditionCheckItem. Anything else is a privilege
# the function does not use.
DYNAMODB_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
}
LOGS_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
# SES v2 SendEmail (Simple, Raw or Template content) is authorised by this one
# action; ses:SendRawEmail belongs to the v1 API, which the code does not call.
SES_ACTIONS = {"ses:SendEmail"}
# Read at init to open the SES connection before the first event
# (src/app/startup.rs, prepare): on the sender's own identity only.
SES_WARM_ACTIONS = {"ses:GetEmailIdentity"}
# Read once at init, on the function's own secret only (src/config/secrets.rs).
SECRETS_ACTIONS = {"secretsmanager:GetSecretValue"}

# Variables the code reads that the template deliberately leaves unset
# (besides the local-only ones). Empty: every option is a stack parameter.
NOT_EXPOSED: set[str] = set()

FINAL_FROM = re.compile(r"^FROM public\.ecr\.aws/lambda/provided:al2023-arm64@(sha256:[0-9a-f]{64})$")
SCHEDULE = "rate(5 minutes)"

# Parameter values for the offline translation (required ones and realistic
# optional ones, so conditional parts are exercised).
TRANSLATE_PARAMETERS = {
    "AllowedOrigins": "https://example.com,https://www.example.com",
    "OwnerEmail": "owner@example.com",
    "SenderEmail": "comments@example.com",
    "ImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/rust-aws:1",
    "SiteUrl": "https://example.com",
    "Captcha": "turnstile",
    "CaptchaSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rust-aws-captcha-AbCdEf",
}


# ----------------------------------------------------------------- helpers


def resources(tpl: dict, rtype: str) -> dict[str, dict]:
    return {k: v for k, v in (tpl.get("Resources") or {}).items() if v.get("Type") == rtype}


def one(tpl: dict, rtype: str, errors: list[str]) -> tuple[str, dict] | tuple[None, None]:
    found = resources(tpl, rtype)
    if len(found) != 1:
        errors.append(f"expected exactly one {rtype}, found {len(found)}: {sorted(found)}")
        return None, None
    return next(iter(found.items()))


def ref(name: str) -> dict:
    return {"Ref": name}


def as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def route_str(method: str, path: str) -> str:
    return f"{method} {path}"


def contract_routes(contract: dict) -> set[str]:
    return {route_str(r["method"].upper(), r["path"]) for r in contract["routes"]}


def function_env(fn: dict, tpl: dict) -> dict:
    env = dict(((tpl.get("Globals") or {}).get("Function") or {}).get("Environment", {}).get("Variables") or {})
    env.update(((fn.get("Properties") or {}).get("Environment") or {}).get("Variables") or {})
    return env


def iam_statements(role: dict) -> list[dict]:
    """Every statement of the role's inline policies; both branches of an Fn::If."""
    out: list[dict] = []

    def add(stmt: Any) -> None:
        if isinstance(stmt, dict) and "Fn::If" in stmt:
            _, yes, no = stmt["Fn::If"]
            add(yes)
            add(no)
        elif isinstance(stmt, dict) and stmt != ref("AWS::NoValue"):
            out.append(stmt)

    for policy in (role.get("Properties") or {}).get("Policies") or []:
        for stmt in as_list(policy.get("PolicyDocument", {}).get("Statement")):
            add(stmt)
    return out


# ------------------------------------------------------------------ checks


def check_function(tpl: dict, errors: list[str]) -> tuple[str | None, dict | None]:
    fid, fn = one(tpl, "AWS::Serverless::Function", errors)
    if fn is None:
        return None, None
    props = fn.get("Properties") or {}
    if props.get("PackageType") != "Image":
        errors.append(f"{fid}: PackageType must be Image")
    if props.get("Architectures") != ["arm64"]:
        errors.append(f"{fid}: Architectures must be [arm64], is {props.get('Architectures')}")
    if "ImageUri" not in props:
        errors.append(f"{fid}: ImageUri (the prebuilt-image route) is missing")
    meta = fn.get("Metadata") or {}
    if meta.get("Dockerfile") != "Dockerfile" or meta.get("DockerContext") != ".":
        errors.append(f"{fid}: Metadata must name Dockerfile and DockerContext '.' for `sam build`, is {meta}")
    if not meta.get("DockerTag") or meta.get("DockerTag") == "latest":
        errors.append(f"{fid}: Metadata.DockerTag must be set and not 'latest'")
    if "Policies" in props:
        errors.append(f"{fid}: SAM Policies would add managed policies; permissions belong on the explicit Role")
    logging = props.get("LoggingConfig") or {}
    if logging.get("LogFormat") != "JSON":
        errors.append(f"{fid}: LoggingConfig.LogFormat must be JSON")
    lg = logging.get("LogGroup")
    groups = resources(tpl, "AWS::Logs::LogGroup")
    if not (isinstance(lg, dict) and lg.get("Ref") in groups):
        errors.append(f"{fid}: LoggingConfig.LogGroup must Ref the template's log group")
    elif "RetentionInDays" not in (groups[lg["Ref"]].get("Properties") or {}):
        errors.append(f"{lg['Ref']}: the log group needs a retention")
    schedules = [
        e for e in (props.get("Events") or {}).values() if e.get("Type") == "Schedule"
    ]
    if len(schedules) != 1 or (schedules[0].get("Properties") or {}).get("Schedule") != SCHEDULE:
        errors.append(f"{fid}: expected one Schedule event ({SCHEDULE}) for mail redelivery, found {schedules}")
    return fid, fn


def check_routes(tpl: dict, fid: str, fn: dict, contract: dict, errors: list[str]) -> None:
    api_id, _ = one(tpl, "AWS::Serverless::HttpApi", errors)
    seen: list[str] = []
    for name, event in ((fn.get("Properties") or {}).get("Events") or {}).items():
        etype = event.get("Type")
        if etype in ("Api", "FunctionUrl"):
            errors.append(f"{fid}.{name}: {etype} event; every route belongs on the one HTTP API")
        if etype != "HttpApi":
            continue
        p = event.get("Properties") or {}
        if api_id and p.get("ApiId") != ref(api_id):
            errors.append(f"{fid}.{name}: ApiId must be !Ref {api_id} (one HTTP API, not SAM's implicit one)")
        seen.append(route_str(str(p.get("Method", "")).upper(), str(p.get("Path", ""))))
    dupes = {r for r in seen if seen.count(r) > 1}
    if dupes:
        errors.append(f"routes declared twice in template: {sorted(dupes)}")
    want = contract_routes(contract)
    for r in sorted(want - set(seen)):
        errors.append(f"route {r} is served by the code but has no HttpApi event in the template")
    for r in sorted(set(seen) - want):
        errors.append(f"route {r} is an HttpApi event in the template but not a route of the code")


def check_env(tpl: dict, fid: str, fn: dict, contract: dict, errors: list[str]) -> None:
    env = function_env(fn, tpl)
    known = {v["name"]: v for v in contract["env"]}
    local = {n for n, v in known.items() if v["local_only"]}
    required = {n for n, v in known.items() if v["required_on_lambda"]}
    for n in sorted(set(env) - set(known)):
        errors.append(f"template sets {n}, which the code never reads")
    for n in sorted(set(env) & local):
        errors.append(f"template sets {n}, which is local-only (never set in a deployed stack)")
    for n in sorted(required - set(env)):
        errors.append(f"the code requires {n} on Lambda but the template does not set it")
    # A required variable fed by a parameter: the parameter must be required
    # too (no default, no empty value), or a stack deploys that cannot start
    # (or, for OWNER_EMAIL, would log its mail).
    params = tpl.get("Parameters") or {}
    for n in sorted(required & set(env)):
        value = env[n]
        name = value.get("Ref") if isinstance(value, dict) else None
        if name not in params:
            continue
        p = params[name]
        if "Default" in p or re.fullmatch(p.get("AllowedPattern", ".*"), ""):
            errors.append(f"parameter {name} feeds {n}, which the code requires on Lambda: it must have no Default and refuse an empty value")
    for n in sorted(set(known) - local - NOT_EXPOSED - set(env)):
        errors.append(f"the code reads {n} but the template neither sets it nor lists it in NOT_EXPOSED")
    if "OWNER_EMAIL" in env and "SENDER_EMAIL" not in env:
        errors.append("template sets OWNER_EMAIL without SENDER_EMAIL")
    owner, sender = env.get("OWNER_EMAIL"), env.get("SENDER_EMAIL")
    if isinstance(owner, dict) and isinstance(sender, dict):
        # The code refuses to start with an owner and no sender: the stack
        # should refuse to deploy that combination instead.
        guarded = any(
            json.dumps(owner) in json.dumps(r.get("RuleCondition"))
            and json.dumps(sender) in json.dumps(r.get("Assertions"))
            for r in (tpl.get("Rules") or {}).values()
        )
        if not guarded:
            errors.append("no template Rule asserts SENDER_EMAIL's parameter when OWNER_EMAIL's is set")

    table_ids = set(resources(tpl, "AWS::DynamoDB::Table"))
    if "TABLE_NAME" in env and not (isinstance(env["TABLE_NAME"], dict) and env["TABLE_NAME"].get("Ref") in table_ids):
        errors.append("TABLE_NAME must be !Ref of the template's table")

    check_secrets(tpl, env, contract, errors)
    for pname, p in (tpl.get("Parameters") or {}).items():
        # A third-party secret (the captcha provider's) cannot be generated:
        # it lives in a secret the owner creates, and only its ARN is passed.
        names_a_secret = pname.endswith("SecretArn") and "secretsmanager" in str(p.get("AllowedPattern", ""))
        if ("secret" in pname.lower() and not names_a_secret) or p.get("NoEcho"):
            errors.append(f"parameter {pname}: secrets are generated in Secrets Manager, not passed in")

    origins = env.get("ALLOWED_ORIGINS")
    api_id, api = one(tpl, "AWS::Serverless::HttpApi", [])
    if not (isinstance(origins, dict) and "Ref" in origins and origins["Ref"] in (tpl.get("Parameters") or {})):
        errors.append("ALLOWED_ORIGINS must be !Ref of a parameter (the same one the API's CORS uses)")
    elif api is not None:
        cors = (((api.get("Properties") or {}).get("DefinitionBody") or {}).get("x-amazon-apigateway-cors")) or {}
        want = {"Fn::Split": [",", ref(origins["Ref"])]}
        if cors.get("allowOrigins") != want:
            errors.append(
                f"{api_id}: x-amazon-apigateway-cors.allowOrigins must be !Split [',', !Ref {origins['Ref']}] "
                f"so API Gateway and the function allow the same origins, is {cors.get('allowOrigins')!r}"
            )


# One entry of the function secret's JSON: "NAME":"{{resolve:secretsmanager:${Secret}:SecretString}}".
SECRET_ENTRY = re.compile(r'"(\w+)":"([^"]*)"')
RESOLVE = re.compile(r"\{\{resolve:secretsmanager:\$\{(\w+)\}:SecretString\}\}")


def secret_text(value: Any) -> str:
    """The function secret's SecretString as text: the literal parts of its
    Fn::Join / Fn::Sub / both branches of each Fn::If, concatenated."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(secret_text(v) for v in value)
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            sub = value["Fn::Sub"]
            return secret_text(sub[0] if isinstance(sub, list) else sub)
        if "Fn::Join" in value:
            return secret_text(value["Fn::Join"][1])
        if "Fn::If" in value:
            return secret_text(value["Fn::If"][1:])
    return json.dumps(value)


def check_secrets(tpl: dict, env: dict, contract: dict, errors: list[str]) -> None:
    """The function's secrets reach it through SECRETS_ARN only: no secret
    variable in its environment (lambda:GetFunctionConfiguration shows it),
    SECRETS_ARN a !Ref of the template's secret, and that secret's JSON made
    only of dynamic references: SECRET_KEY to a generated secret of the
    template, a third party's to a *SecretArn parameter."""
    secret_vars = set(contract.get("secrets") or [])
    for n in sorted(secret_vars & set(env)):
        errors.append(
            f"template sets the secret variable {n} in the function's environment "
            "(readable with lambda:GetFunctionConfiguration); it belongs in the SECRETS_ARN secret's JSON"
        )
    secrets = resources(tpl, "AWS::SecretsManager::Secret")
    arn = env.get("SECRETS_ARN")
    sid = arn.get("Ref") if isinstance(arn, dict) else None
    if sid not in secrets:
        errors.append(f"SECRETS_ARN must be !Ref of an AWS::SecretsManager::Secret of this template, is {arn!r}")
        return
    props = secrets[sid].get("Properties") or {}
    if "GenerateSecretString" in props:
        return
    text = secret_text(props.get("SecretString"))
    entries = SECRET_ENTRY.findall(text)
    leftover = SECRET_ENTRY.sub("", text).strip("{},")
    if leftover:
        errors.append(f"{sid}: SecretString must be a JSON object of secret variables, has {leftover!r} besides")
    generated = {k for k, v in secrets.items() if "GenerateSecretString" in (v.get("Properties") or {})}
    params = tpl.get("Parameters") or {}
    for name, value in entries:
        m = RESOLVE.fullmatch(value)
        if name not in secret_vars:
            errors.append(f"{sid}: {name} is not a secret variable the code reads ({sorted(secret_vars)})")
        if not m:
            errors.append(
                f"{sid}: {name} must be a {{{{resolve:secretsmanager:${{...}}:SecretString}}}} dynamic reference, "
                f"never a value in the template, is {value!r}"
            )
        elif not (m.group(1) in generated or (m.group(1).endswith("SecretArn") and m.group(1) in params)):
            errors.append(f"{sid}: {name} refers to {m.group(1)}, neither a generated secret nor a *SecretArn parameter")
    key = dict(entries).get("SECRET_KEY")
    if key is None:
        errors.append(f"{sid}: the function secret's JSON has no SECRET_KEY, which the code requires on Lambda")
    elif (m := RESOLVE.fullmatch(key)) and m.group(1) not in generated:
        errors.append(f"{sid}: SECRET_KEY must come from a secret this template generates, comes from {m.group(1)}")


def check_table(tpl: dict, contract: dict, errors: list[str]) -> None:
    tid, table = one(tpl, "AWS::DynamoDB::Table", errors)
    if table is None:
        return
    p = table.get("Properties") or {}
    want = contract["table"]

    def keys(schema: list) -> tuple:
        kinds = {k.get("KeyType"): k.get("AttributeName") for k in schema or []}
        return kinds.get("HASH"), kinds.get("RANGE")

    if keys(p.get("KeySchema")) != (want["pk"], want["sk"]):
        errors.append(f"{tid}: keys are {keys(p.get('KeySchema'))}, the store uses ({want['pk']}, {want['sk']})")
    got_idx = {}
    for gsi in p.get("GlobalSecondaryIndexes") or []:
        got_idx[gsi.get("IndexName")] = keys(gsi.get("KeySchema"))
        if (gsi.get("Projection") or {}).get("ProjectionType") != "ALL":
            errors.append(f"{tid}: index {gsi.get('IndexName')} must project ALL (the store reads whole items from it)")
    want_idx = {i["name"]: (i["hash"], i["range"]) for i in want["indexes"]}
    for name in sorted(set(want_idx) | set(got_idx)):
        if want_idx.get(name) != got_idx.get(name):
            errors.append(f"{tid}: index {name} is {got_idx.get(name)} in the template, {want_idx.get(name)} in the store")
    if p.get("LocalSecondaryIndexes"):
        errors.append(f"{tid}: local secondary indexes the store does not use")
    key_attrs = {want["pk"], want["sk"]} | {a for i in want["indexes"] for a in (i["hash"], i["range"])}
    defs = {d.get("AttributeName"): d.get("AttributeType") for d in p.get("AttributeDefinitions") or []}
    if set(defs) != key_attrs:
        errors.append(f"{tid}: AttributeDefinitions {sorted(defs)} must be exactly the key attributes {sorted(key_attrs)}")
    for name, kind in defs.items():
        if kind != "S":
            errors.append(f"{tid}: key attribute {name} must be a string (S), is {kind}")
    ttl = p.get("TimeToLiveSpecification") or {}
    if ttl.get("AttributeName") != want["ttl"] or ttl.get("Enabled") is not True:
        errors.append(f"{tid}: TTL must be enabled on {want['ttl']}, is {ttl}")
    if p.get("BillingMode") != "PAY_PER_REQUEST":
        errors.append(f"{tid}: BillingMode must be PAY_PER_REQUEST (on-demand)")
    if (p.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled") is not True:
        errors.append(f"{tid}: point-in-time recovery must be enabled")


def check_iam(tpl: dict, fid: str, fn: dict, errors: list[str]) -> None:
    role_ref = (fn.get("Properties") or {}).get("Role")
    roles = resources(tpl, "AWS::IAM::Role")
    if not (isinstance(role_ref, dict) and role_ref.get("Fn::GetAtt", [None])[0] in roles):
        errors.append(f"{fid}: Role must be !GetAtt of the template's IAM role (least privilege, no SAM defaults)")
        return
    rid = role_ref["Fn::GetAtt"][0]
    role = roles[rid]
    if (role.get("Properties") or {}).get("ManagedPolicyArns"):
        errors.append(f"{rid}: managed policies grant more than the function uses")
    table_id = next(iter(resources(tpl, "AWS::DynamoDB::Table")), None)
    log_id = next(iter(resources(tpl, "AWS::Logs::LogGroup")), None)
    sender = (function_env(fn, tpl).get("SENDER_EMAIL") or {})
    granted: set[str] = set()
    for s in iam_statements(role):
        if s.get("Effect") != "Allow":
            continue
        actions = set(as_list(s.get("Action")))
        res = as_list(s.get("Resource"))
        granted |= actions
        for a in actions:
            if "*" in a:
                errors.append(f"{rid}: wildcard action {a}")
            elif not (a in DYNAMODB_ACTIONS or a in LOGS_ACTIONS or a in SES_ACTIONS
                      or a in SES_WARM_ACTIONS or a in SECRETS_ACTIONS):
                errors.append(f"{rid}: action {a} is not one the function uses")
        if actions & DYNAMODB_ACTIONS:
            want = [{"Fn::GetAtt": [table_id, "Arn"]}, {"Fn::Sub": f"${{{table_id}.Arn}}/index/*"}]
            if sorted(map(json.dumps, res)) != sorted(map(json.dumps, want)):
                errors.append(f"{rid}: DynamoDB actions must be on the table and its indexes only, are on {res}")
        if actions & SECRETS_ACTIONS:
            arn = function_env(fn, tpl).get("SECRETS_ARN")
            if not (isinstance(arn, dict) and res == [arn]):
                errors.append(f"{rid}: secretsmanager:GetSecretValue must be on the SECRETS_ARN secret only ({arn!r}), is on {res}")
        if actions & LOGS_ACTIONS and res != [{"Fn::GetAtt": [log_id, "Arn"]}]:
            errors.append(f"{rid}: log actions must be on the function's log group only, are on {res}")
        if actions & SES_WARM_ACTIONS:
            sender_ref = sender.get("Ref") if isinstance(sender, dict) else None
            want = [{"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/"
                                f"${{{sender_ref}}}"}]
            if res != want:
                errors.append(f"{rid}: ses:GetEmailIdentity must be on the sender's identity only, is on {res}")
        if actions & SES_ACTIONS:
            if res != [{"Fn::Sub": "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*"}]:
                errors.append(f"{rid}: ses:SendEmail must be on this account's identities, is on {res}")
            condition = s.get("Condition") or {}
            cond = condition.get("StringEquals") or {}
            extra = set(condition) - {"StringEquals", "ForAllValues:StringEquals"}
            if not sender or cond.get("ses:FromAddress") != sender or len(cond) != 1 or extra:
                errors.append(
                    f"{rid}: ses:SendEmail must be limited by StringEquals ses:FromAddress = the SENDER_EMAIL value "
                    f"{sender!r}, condition is {s.get('Condition')!r}"
                )
    check_visitor_mail(rid, role, fn, tpl, errors)
    for a in sorted((DYNAMODB_ACTIONS | LOGS_ACTIONS | SES_ACTIONS | SECRETS_ACTIONS) - granted):
        errors.append(f"{rid}: the function needs {a}, which the role does not grant")


def check_visitor_mail(rid: str, role: dict, fn: dict, tpl: dict, errors: list[str]) -> None:
    """Mail may go to visitors only when reply notifications are on: every
    ses:SendEmail Allow not limited to the owner's address (ses:Recipients)
    must sit in the branch of an Fn::If whose condition is SITE_URL's
    parameter being set."""
    env = function_env(fn, tpl)
    site = env.get("SITE_URL")
    owner = env.get("OWNER_EMAIL")
    site_param = site.get("Ref") if isinstance(site, dict) else None
    conditions = tpl.get("Conditions") or {}

    def on_when_site_set(name: str) -> bool:
        want = {"Fn::Not": [{"Fn::Equals": [ref(site_param), ""]}]}
        return site_param is not None and conditions.get(name) == want

    def walk(stmt: Any, guarded: bool) -> None:
        if isinstance(stmt, dict) and "Fn::If" in stmt:
            name, yes, no = stmt["Fn::If"]
            walk(yes, guarded or on_when_site_set(name))
            walk(no, guarded)
            return
        if not isinstance(stmt, dict) or stmt.get("Effect") != "Allow":
            return
        if "ses:SendEmail" not in as_list(stmt.get("Action")):
            return
        recipients = ((stmt.get("Condition") or {}).get("ForAllValues:StringEquals") or {}).get("ses:Recipients")
        if as_list(recipients) == [owner]:
            return
        if not guarded:
            errors.append(
                f"{rid}: ses:SendEmail to any recipient must be granted only when SITE_URL is set "
                f"(reply notifications on); otherwise limit ses:Recipients to OWNER_EMAIL, statement {stmt!r}"
            )

    for policy in (role.get("Properties") or {}).get("Policies") or []:
        for stmt in as_list(policy.get("PolicyDocument", {}).get("Statement")):
            walk(stmt, False)


def check_alarms(tpl: dict, fid: str, contract: dict, errors: list[str]) -> None:
    m = contract["metrics"]
    want = {
        ("AWS/Lambda", "Errors"): "FunctionName",
        ("AWS/Lambda", "Throttles"): "FunctionName",
        (m["namespace"], m["mail_undelivered"]): m["dimension"],
        (m["namespace"], m["mail_parked"]): m["dimension"],
    }
    found = set()
    for aid, alarm in resources(tpl, "AWS::CloudWatch::Alarm").items():
        p = alarm.get("Properties") or {}
        key = (p.get("Namespace"), p.get("MetricName"))
        if key not in want:
            continue
        found.add(key)
        dims = p.get("Dimensions") or []
        if dims != [{"Name": want[key], "Value": ref(fid)}]:
            errors.append(f"{aid}: {key[0]}/{key[1]} needs the one dimension {want[key]} = !Ref {fid}, has {dims}")
        if not p.get("AlarmActions"):
            errors.append(f"{aid}: an alarm without AlarmActions tells no one")
    for ns, name in sorted(set(want) - found):
        errors.append(f"no alarm on {ns}/{name}")


def check_outputs(tpl: dict, errors: list[str]) -> None:
    outputs = tpl.get("Outputs") or {}
    for name in ("ApiUrl", "FunctionName", "TableName"):
        if name not in outputs:
            errors.append(f"output {name} is missing")


def check_translated(cfn: dict, contract: dict, errors: list[str]) -> None:
    """What CloudFormation would get: the routes and CORS of the generated HTTP API."""
    apis = resources(cfn, "AWS::ApiGatewayV2::Api")
    if len(apis) != 1:
        errors.append(f"translated: expected one AWS::ApiGatewayV2::Api, found {sorted(apis)}")
        return
    aid, api = next(iter(apis.items()))
    body = (api.get("Properties") or {}).get("Body") or {}
    got = set()
    for path, methods in (body.get("paths") or {}).items():
        for method, op in methods.items():
            got.add(route_str(method.upper(), path))
            integ = op.get("x-amazon-apigateway-integration") or {}
            if integ.get("type") != "aws_proxy" or integ.get("payloadFormatVersion") != "2.0":
                errors.append(f"translated: {method.upper()} {path} is not a Lambda proxy integration, payload 2.0")
    want = contract_routes(contract)
    for r in sorted(want - got):
        errors.append(f"translated: route {r} of the code is missing from the generated HTTP API")
    for r in sorted(got - want):
        errors.append(f"translated: generated HTTP API has route {r}, which the code does not serve")
    cors = body.get("x-amazon-apigateway-cors")
    if not (isinstance(cors, dict) and "allowOrigins" in cors):
        errors.append(f"translated: {aid} has no usable x-amazon-apigateway-cors (allowOrigins), got {cors!r}")
    stages = [s for s in resources(cfn, "AWS::ApiGatewayV2::Stage").values() if s["Properties"].get("ApiId") == ref(aid)]
    if len(stages) != 1 or stages[0]["Properties"].get("StageName") != "$default":
        errors.append("translated: the HTTP API needs exactly its $default stage (no stage prefix in paths)")
    else:
        routes = stages[0]["Properties"].get("DefaultRouteSettings") or {}
        if "ThrottlingRateLimit" not in routes or "ThrottlingBurstLimit" not in routes:
            errors.append("translated: the stage has no default throttling")
    rules = resources(cfn, "AWS::Events::Rule")
    if not any(r["Properties"].get("ScheduleExpression") == SCHEDULE for r in rules.values()):
        errors.append(f"translated: no EventBridge rule with {SCHEDULE} (mail redelivery)")


def check_dockerfile(text: str, base_image: dict, errors: list[str]) -> None:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    stages: list[tuple[str, list[str]]] = []
    names: set[str] = set()
    for ln in lines:
        if ln.upper().startswith("FROM "):
            stages.append((ln, []))
            words = [w for w in ln.split()[1:] if not w.startswith("--")]
            image = words[0]
            if len(words) >= 3 and words[1].upper() == "AS":
                names.add(words[2].lower())
            if image.lower() not in names and not re.search(r"@sha256:[0-9a-f]{64}$", image):
                errors.append(f"Dockerfile: {image} is not pinned by digest")
        elif stages:
            stages[-1][1].append(ln)
    if re.search(r"(?i):latest\b", text):
        errors.append("Dockerfile: uses a 'latest' tag")
    if not stages:
        errors.append("Dockerfile: no FROM")
        return
    final, body = stages[-1]
    m = FINAL_FROM.match(final)
    if not m:
        errors.append(
            "Dockerfile: the final stage must be exactly "
            f"'FROM public.ecr.aws/lambda/provided:al2023-arm64@sha256:<digest>' (ci/refresh-base-image.sh rewrites it), is {final!r}"
        )
    else:
        digest = m.group(1)
        pinned = str(base_image.get("imageDigest", ""))
        pinned = pinned if pinned.startswith("sha256:") else f"sha256:{pinned}"
        if digest != pinned:
            errors.append(f"Dockerfile: base digest {digest} differs from nix/base-image.json's {pinned}")
        if base_image.get("imageName") not in (None, "public.ecr.aws/lambda/provided"):
            errors.append(f"nix/base-image.json: imageName {base_image.get('imageName')} is not the Dockerfile's base")
    copy_re = re.compile(r"^COPY --from=(\S+) (\S+) /var/runtime/bootstrap$")
    copies = [copy_re.match(ln) for ln in body]
    if body != [ln for ln in body if ln.startswith("COPY ") or ln.startswith("CMD ")] or len(body) != 2:
        errors.append(f"Dockerfile: the final stage must only COPY the bootstrap and set CMD, has {body}")
    if not any(c and c.group(1).lower() in names for c in copies):
        errors.append("Dockerfile: the final stage must COPY --from=<builder stage> ... /var/runtime/bootstrap")
    if 'CMD ["bootstrap"]' not in body:
        errors.append('Dockerfile: the final stage needs CMD ["bootstrap"] (the entrypoint exits without one argument)')
    builder_runs = " ".join(ln for _, b in stages[:-1] for ln in b if ln.startswith("RUN "))
    if not re.search(r"\bnix\b.*\bbuild\b.*\.#bootstrap\b", builder_runs):
        errors.append("Dockerfile: a builder stage must run `nix build .#bootstrap` (same bits as the Nix build)")


# ------------------------------------------------------------- item kinds

# A partition-key prefix in a Rust string literal: `"COMMENT#"`, `"SUB#{id}"`.
KEY_PREFIX_LITERAL = re.compile(r'"([A-Z][A-Z0-9_]*)#')
# A partition-key prefix in README's table: `COMMENT#<id>`.
KEY_PREFIX_DOC = re.compile(r"`([A-Z][A-Z0-9_]*)#")


def code_key_prefixes(sources: dict[str, str]) -> dict[str, str]:
    """Each partition-key prefix in the code, with where it first appears.

    Comment lines are skipped: only what the code builds counts."""
    found: dict[str, str] = {}
    for path, text in sorted(sources.items()):
        for lineno, line in enumerate(text.splitlines(), 1):
            if line.lstrip().startswith("//"):
                continue
            for m in KEY_PREFIX_LITERAL.finditer(line):
                found.setdefault(m.group(1), f"{path}:{lineno}")
    return found


def readme_key_prefixes(readme: str) -> set[str] | None:
    """The prefixes README's table design documents under "Data and the table
    design": the `pk` column of the item table, and the key values of the index
    table (an index's partition values, such as the outbox's lines, are key
    prefixes the code writes too). None when the item table is not found."""
    section = re.search(r"^## Data and the table design\n(.*?)(?=^## )", readme, re.S | re.M)
    if not section:
        return None
    tables: dict[str, list[str]] = {}
    current = None
    for line in section.group(1).splitlines():
        if line.startswith("| item |") or line.startswith("| index |"):
            current = line.split("|")[1].strip()
            tables[current] = []
        elif current and line.startswith("|"):
            tables[current].append(line)
        else:
            current = None
    rows = tables.get("item")
    if not rows:
        return None
    cells = [r.split("|")[2] for r in rows[1:] if r.count("|") >= 4]  # rows[0] is |---|
    cells += [r.split("|")[2] for r in tables.get("index", [])[1:] if r.count("|") >= 4]
    return {m.group(1) for c in cells for m in KEY_PREFIX_DOC.finditer(c)}


def check_item_kinds(readme: str, sources: dict[str, str], errors: list[str]) -> None:
    documented = readme_key_prefixes(readme)
    if documented is None:
        errors.append("README.md: no item table (a row starting '| item |') under '## Data and the table design'")
        return
    written = code_key_prefixes(sources)
    if not written:
        errors.append("src/: no partition-key prefix found in the code (\"NAME#...\"); has the store moved?")
    for prefix, where in sorted(written.items()):
        if prefix not in documented:
            errors.append(f"README.md's table design has no item with pk {prefix}#..., which {where} writes")
    for prefix in sorted(documented - set(written)):
        errors.append(f"README.md's table design lists pk {prefix}#..., which no code under src/ writes")


def read_sources(src: Path) -> dict[str, str]:
    return {str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p): p.read_text() for p in src.rglob("*.rs")}


ITEM_KIND_CASES = 3


def self_test_item_kinds(readme: str, sources: dict[str, str]) -> int:
    """The item-kind check's own breaks; returns how many were missed."""
    note_row = next(ln for ln in readme.splitlines() if ln.startswith("| ") and "`NOTE#" in ln)
    cases = [
        ("README loses an item kind", readme.replace(note_row + "\n", ""), sources, "pk NOTE#"),
        ("code gains an item kind", readme,
         {**sources, "src/store/new.rs": 'fn k(id: &str) -> String { format!("SESSION#{id}") }\n'}, "pk SESSION#"),
        ("README lists a kind the code dropped", readme.replace(note_row, note_row.replace("`NOTE#", "`NOTICE#")),
         sources, "pk NOTICE#"),
    ]
    assert len(cases) == ITEM_KIND_CASES
    errors: list[str] = []
    check_item_kinds(readme, sources, errors)
    if errors:
        print("self-test: the unmodified README and sources do not pass:", *errors, sep="\n  ")
        return len(cases)
    missed = 0
    for name, r, s, expect in cases:
        errs: list[str] = []
        check_item_kinds(r, s, errs)
        hit = [e for e in errs if expect in e]
        if hit:
            print(f"  caught: {name}: {hit[0]}")
        else:
            missed += 1
            print(f"  MISSED: {name} (expected a message with {expect!r}, got {errs})")
    return missed


# ------------------------------------------------------------- translation


class StubPolicyLoader:
    """Stands in for the IAM ListPolicies lookup the translator would make.

    The template names no managed policies, so the translator should never
    ask; a name it does ask for still resolves to a well-formed ARN."""

    def load(self) -> dict[str, str]:
        return {"AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"}


def translate(tpl: dict, errors: list[str]) -> dict | None:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    # The translator's usage metrics are never published offline; mute the
    # warning it logs about them for every translation.
    logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform

    try:
        return transform(copy.deepcopy(tpl), dict(TRANSLATE_PARAMETERS), StubPolicyLoader())
    except InvalidDocumentException as e:
        errors.extend(f"SAM translation: {c.message}" for c in e.causes)
    except Exception as e:  # the translator's other failures are just as fatal
        errors.append(f"SAM translation: {type(e).__name__}: {e}")
    return None


# ------------------------------------------------------------------ driver


def run_checks(tpl: dict, contract: dict, dockerfile: str, base_image: dict) -> tuple[list[str], dict | None]:
    errors: list[str] = []
    fid, fn = check_function(tpl, errors)
    if fn is not None:
        check_routes(tpl, fid, fn, contract, errors)
        check_env(tpl, fid, fn, contract, errors)
        check_iam(tpl, fid, fn, errors)
        check_alarms(tpl, fid, contract, errors)
        timeout = (fn.get("Properties") or {}).get("Timeout")
        if timeout != contract["function_timeout_s"]:
            errors.append(
                f"{fid}: Timeout is {timeout}, the code's request budget assumes "
                f"{contract['function_timeout_s']} s (src/web/deadline.rs FUNCTION_TIMEOUT)"
            )
    check_table(tpl, contract, errors)
    check_outputs(tpl, errors)
    check_dockerfile(dockerfile, base_image, errors)
    cfn = translate(tpl, errors)
    if cfn is not None:
        check_translated(cfn, contract, errors)
    return errors, cfn


def load_template(path: Path) -> dict:
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(path.read_text())


def fn_props(t: dict) -> dict:
    return t["Resources"]["Function"]["Properties"]


def events(t: dict) -> dict:
    return fn_props(t)["Events"]


def env(t: dict) -> dict:
    return fn_props(t)["Environment"]["Variables"]


def table(t: dict) -> dict:
    return t["Resources"]["Table"]["Properties"]


def role_policy(t: dict, name: str) -> dict:
    pols = t["Resources"]["FunctionRole"]["Properties"]["Policies"]
    return next(p for p in pols if p["PolicyName"] == name)["PolicyDocument"]["Statement"]


def function_secret(t: dict) -> list:
    """The parts of the function secret's SecretString (its Fn::Join list)."""
    return t["Resources"]["FunctionSecrets"]["Properties"]["SecretString"]["Fn::Join"][1]


def self_test(tpl: dict, contract: dict, dockerfile: str, base_image: dict, readme: str, sources: dict[str, str]) -> int:
    """Each mutation must be reported with a message containing the given text."""
    base_digest = FINAL_FROM.match(
        [ln for ln in dockerfile.splitlines() if ln.startswith("FROM ")][-1]
    )
    assert base_digest, "the Dockerfile's final FROM line does not have the expected form"
    other_digest = "sha256:" + "0" * 64

    def t_mut(f: Callable[[dict], Any]) -> Callable:
        def go(t, c, d, b):
            f(t)
            return t, c, d, b
        return go

    def c_mut(f: Callable[[dict], Any]) -> Callable:
        def go(t, c, d, b):
            f(c)
            return t, c, d, b
        return go

    def cors_as_sam_property(t: dict) -> None:
        api = t["Resources"]["HttpApi"]["Properties"]
        api.pop("DefinitionBody")
        api["CorsConfiguration"] = {"AllowOrigins": {"Fn::Split": [",", ref("AllowedOrigins")]}}

    # The sender's statements: reply notifications on, and owner-only.
    ses_stmt = lambda t: role_policy(t, "mail")[0]["Fn::If"][1]["Fn::If"][1]  # noqa: E731
    owner_only_stmt = lambda t: role_policy(t, "mail")[0]["Fn::If"][1]["Fn::If"][2]  # noqa: E731

    cases: list[tuple[str, Callable, str]] = [
        ("route removed", t_mut(lambda t: events(t).pop("PostContact")), "POST /contact"),
        ("route added", t_mut(lambda t: events(t).__setitem__(
            "Del", {"Type": "HttpApi", "Properties": {"ApiId": ref("HttpApi"), "Method": "DELETE", "Path": "/comment"}})),
         "DELETE /comment"),
        ("route path changed", t_mut(lambda t: events(t)["CountComments"]["Properties"].__setitem__("Path", "/comments/count")),
         "GET /comment/count"),
        ("route on the implicit API", t_mut(lambda t: events(t)["ListComments"]["Properties"].pop("ApiId")), "ApiId"),
        ("code gains a route", c_mut(lambda c: c["routes"].append({"method": "GET", "path": "/health"})),
         "translated: route GET /health"),
        ("required variable unset", t_mut(lambda t: env(t).pop("TABLE_NAME")), "TABLE_NAME"),
        ("unread variable set", t_mut(lambda t: env(t).__setitem__("LOG_LEVEL", "debug")), "LOG_LEVEL"),
        ("local-only variable set", t_mut(lambda t: env(t).__setitem__("AWS_ENDPOINT_URL", "http://x")), "AWS_ENDPOINT_URL"),
        ("code gains a variable", c_mut(lambda c: c["env"].append(
            {"name": "NEW_KNOB", "required_on_lambda": False, "local_only": False})), "NEW_KNOB"),
        ("code requires a new variable", c_mut(lambda c: c["env"].append(
            {"name": "MUST_HAVE", "required_on_lambda": True, "local_only": False})), "MUST_HAVE"),
        ("secret in clear", t_mut(lambda t: env(t).__setitem__("SECRET_KEY", "x" * 64)), "SECRET_KEY"),
        ("owner-only mail to anyone", t_mut(lambda t: owner_only_stmt(t)["Condition"].pop(
            "ForAllValues:StringEquals")), "only when SITE_URL is set"),
        ("visitor mail without notifications", t_mut(lambda t: t["Conditions"].__setitem__(
            "NotifiesVisitors", {"Fn::Equals": ["a", "a"]})), "only when SITE_URL is set"),
        ("captcha secret in clear", t_mut(lambda t: env(t).__setitem__("CAPTCHA_SECRET", {"Ref": "Captcha"})), "CAPTCHA_SECRET"),
        ("captcha secret as a parameter", t_mut(lambda t: t["Parameters"].__setitem__(
            "CaptchaSecret", {"Type": "String", "Default": "", "NoEcho": True})), "parameter CaptchaSecret"),
        ("proxy secret in the environment", t_mut(lambda t: env(t).__setitem__("TRUSTED_PROXY_SECRET", "y" * 48)),
         "secret variable TRUSTED_PROXY_SECRET"),
        ("SECRETS_ARN not the template's secret", t_mut(lambda t: env(t).__setitem__(
            "SECRETS_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x")), "SECRETS_ARN must be"),
        ("a secret's value written in the template", t_mut(lambda t: function_secret(t)[0].__setitem__(
            "Fn::Sub", '{"SECRET_KEY":"' + "k" * 64 + '"')), "dynamic reference"),
        ("SECRET_KEY from a passed-in secret", t_mut(lambda t: function_secret(t)[0].__setitem__(
            "Fn::Sub", '{"SECRET_KEY":"{{resolve:secretsmanager:${CaptchaSecretArn}:SecretString}}"')),
         "SECRET_KEY must come from a secret this template generates"),
        ("function secret without SECRET_KEY", t_mut(lambda t: function_secret(t).pop(0)), "no SECRET_KEY"),
        ("GetSecretValue on every secret", t_mut(lambda t: role_policy(t, "secrets")[0].__setitem__("Resource", "*")),
         "GetSecretValue must be on the SECRETS_ARN secret"),
        ("no GetSecretValue grant", t_mut(lambda t: t["Resources"]["FunctionRole"]["Properties"]["Policies"].remove(
            next(p for p in t["Resources"]["FunctionRole"]["Properties"]["Policies"] if p["PolicyName"] == "secrets"))),
         "needs secretsmanager:GetSecretValue"),
        ("owner without sender", t_mut(lambda t: env(t).pop("SENDER_EMAIL")), "OWNER_EMAIL without SENDER_EMAIL"),
        ("owner may be left empty", t_mut(lambda t: t["Parameters"]["OwnerEmail"].__setitem__("Default", "")),
         "parameter OwnerEmail feeds OWNER_EMAIL"),
        ("no sender-with-owner rule", t_mut(lambda t: t.pop("Rules")), "no template Rule"),
        ("TTL attribute renamed", t_mut(lambda t: table(t)["TimeToLiveSpecification"].__setitem__("AttributeName", "ttl")),
         "expires_at"),
        ("code renames the TTL attribute", c_mut(lambda c: c["table"].__setitem__("ttl", "expiry")), "expiry"),
        ("index key changed", t_mut(lambda t: table(t)["GlobalSecondaryIndexes"][0]["KeySchema"][1].__setitem__(
            "AttributeName", "list_sk2")), "by_post"),
        ("index removed", t_mut(lambda t: table(t)["GlobalSecondaryIndexes"].pop(1)), "outbox"),
        ("code gains an index", c_mut(lambda c: c["table"]["indexes"].append({"name": "by_ip", "hash": "ip", "range": "at"})),
         "by_ip"),
        ("table key renamed", t_mut(lambda t: table(t)["KeySchema"][0].__setitem__("AttributeName", "id")), "keys are"),
        ("provisioned billing", t_mut(lambda t: table(t).__setitem__("BillingMode", "PROVISIONED")), "PAY_PER_REQUEST"),
        ("no point-in-time recovery", t_mut(lambda t: table(t).pop("PointInTimeRecoverySpecification")), "point-in-time"),
        ("metric renamed", t_mut(lambda t: t["Resources"]["MailUndeliveredAlarm"]["Properties"].__setitem__(
            "MetricName", "MailFailed")), "MailUndelivered"),
        ("throttle alarm removed", t_mut(lambda t: t["Resources"].pop("ThrottlesAlarm")), "Throttles"),
        ("extra DynamoDB action", t_mut(lambda t: role_policy(t, "table")[0]["Action"].append("dynamodb:Scan")),
         "dynamodb:Scan"),
        ("DynamoDB on every table", t_mut(lambda t: role_policy(t, "table")[0].__setitem__("Resource", "*")),
         "table and its indexes"),
        ("SES on any resource", t_mut(lambda t: ses_stmt(t).__setitem__("Resource", "*")), "identities"),
        ("SES without From condition", t_mut(lambda t: ses_stmt(t).pop("Condition")), "ses:FromAddress"),
        ("SES raw action added", t_mut(lambda t: ses_stmt(t).__setitem__("Action", ["ses:SendEmail", "ses:SendRawEmail"])),
         "ses:SendRawEmail"),
        ("x86_64", t_mut(lambda t: fn_props(t).__setitem__("Architectures", ["x86_64"])), "arm64"),
        ("function timeout changed", t_mut(lambda t: fn_props(t).__setitem__("Timeout", 30)), "request budget"),
        ("text logs", t_mut(lambda t: fn_props(t)["LoggingConfig"].__setitem__("LogFormat", "Text")), "JSON"),
        ("no redelivery schedule", t_mut(lambda t: events(t).pop("Redeliver")), "Schedule"),
        ("CORS origins not from the parameter", t_mut(lambda t: t["Resources"]["HttpApi"]["Properties"]["DefinitionBody"][
            "x-amazon-apigateway-cors"].__setitem__("allowOrigins", ["*"])), "allowOrigins"),
        ("CORS as SAM CorsConfiguration with an intrinsic", t_mut(cors_as_sam_property),
         "no usable x-amazon-apigateway-cors"),
        ("translation fails", t_mut(lambda t: events(t)["PostComment"]["Properties"].__setitem__("ApiId", ref("NoSuchApi"))),
         "SAM translation"),
        ("base digest differs from nix/base-image.json",
         lambda t, c, d, b: (t, c, d, {"imageName": "public.ecr.aws/lambda/provided", "imageDigest": other_digest}),
         "nix/base-image.json"),
        ("base digest changed in the Dockerfile only",
         lambda t, c, d, b: (t, c, d.replace(base_digest.group(1), other_digest), b), "nix/base-image.json"),
        ("latest tag", lambda t, c, d, b: (t, c, d.replace("nixos/nix@sha256:", "nixos/nix:latest@sha256:"), b), "latest"),
        ("builder not pinned", lambda t, c, d, b: (t, c, re.sub(r"nixos/nix@sha256:[0-9a-f]+", "nixos/nix:2.33.0", d), b),
         "not pinned"),
        ("extra layer in the final stage", lambda t, c, d, b: (t, c, d.rstrip("\n") + "\nRUN dnf install -y git\n", b),
         "only COPY"),
        ("no CMD", lambda t, c, d, b: (t, c, d.replace('CMD ["bootstrap"]', ""), b), "CMD"),
        ("builder does not build the flake output", lambda t, c, d, b: (t, c, d.replace(".#bootstrap", ".#default"), b),
         "nix build .#bootstrap"),
    ]

    baseline, _ = run_checks(copy.deepcopy(tpl), copy.deepcopy(contract), dockerfile, copy.deepcopy(base_image))
    failures = 0
    if baseline:
        print("self-test: the unmodified inputs do not pass:", *baseline, sep="\n  ")
        return 1
    for name, mutate, expect in cases:
        t, c, d, b = mutate(copy.deepcopy(tpl), copy.deepcopy(contract), dockerfile, copy.deepcopy(base_image))
        errs, _ = run_checks(t, c, d, b)
        hit = [e for e in errs if expect in e]
        if hit:
            print(f"  caught: {name}: {hit[0]}")
        else:
            failures += 1
            print(f"  MISSED: {name} (expected a message with {expect!r}, got {errs})")
    failures += self_test_item_kinds(readme, sources)
    total = len(cases) + ITEM_KIND_CASES
    print(f"{total - failures} passed, {failures} failed")
    return 1 if failures else 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contract", required=True, type=Path, help="output of `cargo run --example contract`")
    ap.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    ap.add_argument("--dockerfile", type=Path, default=ROOT / "Dockerfile")
    ap.add_argument("--base-image", type=Path, default=ROOT / "nix" / "base-image.json")
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--src", type=Path, default=ROOT / "src", help="the Rust sources whose item kinds README.md lists")
    ap.add_argument("--translated-out", type=Path, help="write the translated CloudFormation here (for cfn-lint)")
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()

    contract = json.loads(args.contract.read_text())
    tpl = load_template(args.template)
    dockerfile = args.dockerfile.read_text()
    base_image = json.loads(args.base_image.read_text())
    readme = args.readme.read_text()
    sources = read_sources(args.src)

    if args.self_test:
        return self_test(tpl, contract, dockerfile, base_image, readme, sources)

    errors, cfn = run_checks(tpl, contract, dockerfile, base_image)
    check_item_kinds(readme, sources, errors)
    if cfn is not None and args.translated_out:
        args.translated_out.write_text(json.dumps(cfn, indent=1, sort_keys=True))
    if errors:
        print(f"{args.template.name} / {args.dockerfile.name} / {args.readme.name} disagree with the code or the deployment rules:")
        for e in errors:
            print(f"  - {e}")
        return 1
    print(
        f"template agrees with the code: {len(contract['routes'])} routes, "
        f"{len(contract['env'])} variables ({sum(v['local_only'] for v in contract['env'])} local-only), "
        f"table keys/indexes/TTL, metrics; translation and Dockerfile pin OK; "
        f"README lists the {len(code_key_prefixes(sources))} item kinds the store writes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
