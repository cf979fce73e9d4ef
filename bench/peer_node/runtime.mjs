// A minimal Runtime API client standing in for the nodejs runtime's own
// (which AWS does not publish as a small npm package; aws-lambda-ric needs a
// native build). It does what that client does on the hot path: import the
// handler module, then loop GET /next -> handler -> POST /response, over one
// keep-alive connection. Being leaner than the real one, it flatters Node.
import http from "node:http";

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = "/2018-06-01/runtime";

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: base + path, agent,
      headers: body ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) } : {} },
    (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const { handler } = await import(process.env.HANDLER_MODULE ?? "./handler.mjs");
for (;;) {
  const next = await call("GET", "/invocation/next");
  const id = next.headers["lambda-runtime-aws-request-id"];
  try {
    const result = await handler(JSON.parse(next.body), { awsRequestId: id });
    await call("POST", `/invocation/${id}/response`, JSON.stringify(result));
  } catch (e) {
    await call("POST", `/invocation/${id}/error`, JSON.stringify({ errorType: e.name, errorMessage: e.message }));
  }
}
