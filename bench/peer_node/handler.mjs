// The Node.js peer: POST /contact as users write it on the nodejs runtime,
// with AWS SDK v3 clients created at module load (the documented practice)
// and the same AWS calls as the product, in the same order: rate counter,
// store, mail budget, send (SES v2, raw MIME), mark delivered.
import { createHmac, randomUUID } from "node:crypto";
import { DynamoDBClient, UpdateItemCommand, PutItemCommand, ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { SESv2Client, SendEmailCommand } from "@aws-sdk/client-sesv2";

const { TABLE_NAME: TABLE, OWNER_EMAIL: OWNER, SENDER_EMAIL: SENDER, SECRET_KEY: SECRET } = process.env;
const RATE_LIMIT = Number(process.env.RATE_LIMIT_PER_MINUTE ?? 5);
const MAIL_PER_HOUR = Number(process.env.MAIL_PER_HOUR ?? 100);

const dynamodb = new DynamoDBClient({});
const ses = new SESv2Client({});

const answer = (statusCode, body) => ({
  statusCode,
  headers: { "content-type": "application/json", "cache-control": "no-store" },
  body: JSON.stringify(body),
});

export const handler = async (event) => {
  let fields;
  try {
    fields = JSON.parse(event.body ?? "{}");
  } catch {
    return answer(400, { error: "validation_failed" });
  }
  if (!["name", "email", "message"].every((k) => typeof fields[k] === "string" && fields[k].trim())) {
    return answer(400, { error: "validation_failed" });
  }
  const now = Date.now();
  const ipHash = createHmac("sha256", SECRET).update(event.requestContext.http.sourceIp).digest("hex");
  const minute = Math.floor(now / 60000);
  const rate = await dynamodb.send(new UpdateItemCommand({
    TableName: TABLE,
    Key: { pk: { S: `RATE#contact#${ipHash}#${minute}` }, sk: { S: "RATE" } },
    UpdateExpression: "ADD hits :one SET expires_at = if_not_exists(expires_at, :exp)",
    ExpressionAttributeValues: { ":one": { N: "1" }, ":exp": { N: String((minute + 5) * 60) } },
    ReturnValues: "UPDATED_NEW",
  }));
  if (Number(rate.Attributes.hits.N) > RATE_LIMIT) return answer(429, { error: "rate_limited" });

  const id = randomUUID().replaceAll("-", "");
  await dynamodb.send(new PutItemCommand({
    TableName: TABLE,
    Item: {
      pk: { S: `CONTACT#${id}` }, sk: { S: "CONTACT" }, type: { S: "contact" },
      name: { S: fields.name }, email: { S: fields.email }, message: { S: fields.message },
      created_ms: { N: String(now) }, ip_hash: { S: ipHash }, delivered: { BOOL: false },
      outbox_pk: { S: "OUTBOX" }, outbox_sk: { S: `${String(now).padStart(13, "0")}#contact#${id}` },
    },
    ConditionExpression: "attribute_not_exists(pk)",
  }));

  const hour = Math.floor(now / 3600000);
  try {
    await dynamodb.send(new UpdateItemCommand({
      TableName: TABLE,
      Key: { pk: { S: `MAILCAP#${hour}` }, sk: { S: "MAILCAP" } },
      UpdateExpression: "ADD used :one SET expires_at = if_not_exists(expires_at, :exp)",
      ConditionExpression: "attribute_not_exists(used) OR used < :limit",
      ExpressionAttributeValues: { ":one": { N: "1" }, ":limit": { N: String(MAIL_PER_HOUR) }, ":exp": { N: String((hour + 3) * 3600) } },
    }));
  } catch (e) {
    if (e instanceof ConditionalCheckFailedException) return answer(202, { id, status: "received" });
    throw e;
  }

  const mime = [
    `From: ${SENDER}`, `To: ${OWNER}`, `Reply-To: ${fields.email}`,
    `Subject: Contact: ${fields.subject ?? "(no subject)"}`,
    "MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "",
    Buffer.from(`From ${fields.name}:\n\n${fields.message}`).toString("base64"),
  ].join("\r\n");
  await ses.send(new SendEmailCommand({
    FromEmailAddress: SENDER,
    Destination: { ToAddresses: [OWNER] },
    Content: { Raw: { Data: Buffer.from(mime) } },
  }));

  await dynamodb.send(new UpdateItemCommand({
    TableName: TABLE,
    Key: { pk: { S: `CONTACT#${id}` }, sk: { S: "CONTACT" } },
    UpdateExpression: "SET delivered = :t, expires_at = :exp REMOVE outbox_pk, outbox_sk",
    ConditionExpression: "attribute_exists(pk)",
    ExpressionAttributeValues: { ":t": { BOOL: true }, ":exp": { N: String(Math.floor(now / 1000) + 90 * 86400) } },
  }));
  return answer(202, { id, status: "received" });
};
