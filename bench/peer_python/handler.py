"""The peer: POST /contact as users write it in Python on Lambda.

boto3 clients are created at import (the documented best practice, so warm
invocations reuse them), and the handler makes the same AWS calls as the
product's POST /contact, in the same order: rate counter (UpdateItem), store
(PutItem), mail budget (UpdateItem), send (SES v2 SendEmail, raw MIME), mark
delivered (UpdateItem). Validation is minimal; this measures the platform,
not the business rules.
"""

import hashlib
import hmac
import json
import os
import time
import uuid
from email.message import EmailMessage

import boto3

TABLE = os.environ["TABLE_NAME"]
OWNER = os.environ["OWNER_EMAIL"]
SENDER = os.environ["SENDER_EMAIL"]
SECRET = os.environ["SECRET_KEY"].encode()
RATE_LIMIT = int(os.environ.get("RATE_LIMIT_PER_MINUTE", "5"))
MAIL_PER_HOUR = int(os.environ.get("MAIL_PER_HOUR", "100"))

dynamodb = boto3.client("dynamodb")
ses = boto3.client("sesv2")


def answer(status, body):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(body),
    }


def handler(event, context):
    try:
        fields = json.loads(event.get("body") or "{}")
    except ValueError:
        return answer(400, {"error": "validation_failed"})
    if not all(isinstance(fields.get(k), str) and fields[k].strip()
               for k in ("name", "email", "message")):
        return answer(400, {"error": "validation_failed"})

    now = time.time()
    ip = event["requestContext"]["http"]["sourceIp"]
    ip_hash = hmac.new(SECRET, ip.encode(), hashlib.sha256).hexdigest()
    minute = int(now // 60)
    hits = dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"RATE#contact#{ip_hash}#{minute}"}, "sk": {"S": "RATE"}},
        UpdateExpression="ADD hits :one SET expires_at = if_not_exists(expires_at, :exp)",
        ExpressionAttributeValues={":one": {"N": "1"}, ":exp": {"N": str((minute + 5) * 60)}},
        ReturnValues="UPDATED_NEW",
    )["Attributes"]["hits"]["N"]
    if int(hits) > RATE_LIMIT:
        return answer(429, {"error": "rate_limited"})

    msg_id = uuid.uuid4().hex
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"CONTACT#{msg_id}"}, "sk": {"S": "CONTACT"},
            "type": {"S": "contact"},
            "name": {"S": fields["name"]}, "email": {"S": fields["email"]},
            "message": {"S": fields["message"]},
            "created_ms": {"N": str(int(now * 1000))}, "ip_hash": {"S": ip_hash},
            "delivered": {"BOOL": False},
            "outbox_pk": {"S": "OUTBOX"},
            "outbox_sk": {"S": f"{int(now * 1000):013}#contact#{msg_id}"},
        },
        ConditionExpression="attribute_not_exists(pk)",
    )

    hour = int(now // 3600)
    try:
        dynamodb.update_item(
            TableName=TABLE,
            Key={"pk": {"S": f"MAILCAP#{hour}"}, "sk": {"S": "MAILCAP"}},
            UpdateExpression="ADD used :one SET expires_at = if_not_exists(expires_at, :exp)",
            ConditionExpression="attribute_not_exists(used) OR used < :limit",
            ExpressionAttributeValues={":one": {"N": "1"}, ":limit": {"N": str(MAIL_PER_HOUR)},
                                       ":exp": {"N": str((hour + 3) * 3600)}},
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return answer(202, {"id": msg_id, "status": "received"})

    mail = EmailMessage()
    mail["From"], mail["To"], mail["Reply-To"] = SENDER, OWNER, fields["email"]
    mail["Subject"] = "Contact: " + fields.get("subject", "(no subject)")
    mail.set_content(f"From {fields['name']}:\n\n{fields['message']}")
    ses.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [OWNER]},
        Content={"Raw": {"Data": mail.as_bytes()}},
    )

    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": f"CONTACT#{msg_id}"}, "sk": {"S": "CONTACT"}},
        UpdateExpression="SET delivered = :t, expires_at = :exp REMOVE outbox_pk, outbox_sk",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":t": {"BOOL": True},
                                   ":exp": {"N": str(int(now) + 90 * 86400)}},
    )
    return answer(202, {"id": msg_id, "status": "received"})
