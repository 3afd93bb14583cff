// Driver: @hellocoop/httpsig 2.2.0 signs or verifies one request. Runs under node with the package
// from .interop/node (HELLOCOOP_PREFIX), never from our tree.
//
// stdin: {"op": "sign" | "verify", "method", "url", "headers", "body" (text or null),
//         sign:   "key" (private JWK with "alg"), "scheme" ("hwk" | "jwt" | "jwks_uri" | "jkt-jwt"),
//                 "token", "id", "dwk", "kid", optional "components", optional "count" (signatures)
//         verify: "documents" {url: JSON document}, what key discovery would fetch}
// stdout: sign: {"headers": {...}} or, with "count", {"signed": [{"headers": {...}}, ...]}
//         verify: {"verified": bool, "error": Signature-Error code or null, "detail": text}
// No network: globalThis.fetch is replaced by a function that answers from "documents" only,
// and signing is a dry run.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(join(process.env.HELLOCOOP_PREFIX, 'driver.cjs'))
const httpsig = require('@hellocoop/httpsig')

const req = JSON.parse(readFileSync(0, 'utf8'))
const documents = req.documents || {}
globalThis.fetch = async (url) => {
    const doc = documents[String(url)]
    if (doc === undefined) {
        return new Response('not found', { status: 404, statusText: 'Not Found' })
    }
    return new Response(JSON.stringify(doc), {
        status: 200,
        headers: { 'content-type': 'application/json' },
    })
}

function signatureKey() {
    switch (req.scheme) {
        case 'hwk':
            return { type: 'hwk' }
        case 'jwt':
            return { type: 'jwt', jwt: req.token }
        case 'jkt-jwt':
            return { type: 'jkt_jwt', jwt: req.token }
        case 'jwks_uri':
            return { type: 'jwks_uri', id: req.id, kid: req.kid, dwk: req.dwk }
        default:
            throw new Error(`unknown scheme ${req.scheme}`)
    }
}

async function signOnce() {
    const options = {
        method: req.method,
        headers: req.headers || {},
        signingKey: req.key,
        signatureKey: signatureKey(),
        dryRun: true,
    }
    if (req.body !== null && req.body !== undefined) options.body = req.body
    if (req.components) options.components = req.components
    const { headers } = await httpsig.fetch(req.url, options)
    const out = {}
    headers.forEach((value, name) => {
        out[name] = value
    })
    return { headers: out }
}

async function verifyOnce() {
    const url = new URL(req.url)
    const request = {
        method: req.method,
        authority: url.host,
        path: url.pathname,
        query: url.search ? url.search.substring(1) : undefined,
        headers: req.headers,
    }
    if (req.body !== null && req.body !== undefined) request.body = req.body
    const result = await httpsig.verify(request)
    return {
        verified: result.verified === true,
        error: result.verified ? null : (result.signatureError?.error ?? 'invalid_signature'),
        detail: result.error ?? '',
    }
}

let out
if (req.op === 'sign' && req.count) {
    out = { signed: [] }
    for (let i = 0; i < req.count; i++) out.signed.push(await signOnce())
} else if (req.op === 'sign') {
    out = await signOnce()
} else if (req.op === 'verify') {
    out = await verifyOnce()
} else {
    throw new Error(`unknown op ${req.op}`)
}
process.stdout.write(JSON.stringify(out))
