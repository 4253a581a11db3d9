#!/usr/bin/python3
"""A scripted ACME server for tests/acme/test_acme.c: HTTPS on 127.0.0.1,
one order for the names the client asks for, and a scenario (argv[4])
that bends one thing: Retry-After values, nonce rejection, a refused
account, a badCSR problem, an identifier the client did not ask for, an
invalid authorization. Every POST is checked as RFC 8555 §6 wants it
(flattened JWS verified with jwcrypto, ES256, url = the request's URL,
a nonce we issued and nobody used, jwk for newAccount and kid after);
a violation is answered with a "fake: ..." malformed problem, so the
client's test fails with the reason in its message.

usage: fake_acme.py CERT KEY CHAIN SCENARIO   (prints "PORT PID")
"""
import base64, email.utils, json, os, ssl, sys, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from jwcrypto import jwk, jws
from cryptography import x509

CERT, KEY, CHAIN, SCENARIO = sys.argv[1:5]
ERR = "urn:ietf:params:acme:error:"
S = {"nonce": 0, "issued": set(), "accounts": {}, "authz": {}, "order": None, "rejected": set()}


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Problem(Exception):
    def __init__(self, status, typ, detail, sub=None):
        self.status, self.doc = status, {"type": ERR + typ, "detail": detail}
        if sub:
            self.doc["subproblems"] = sub


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def base(self):
        return "https://localhost:%d" % self.server.server_port

    def nonce(self):
        S["nonce"] += 1
        n = "nonce-%d_%s" % (S["nonce"], "x" * 8)
        S["issued"].add(n)
        return n

    def reply(self, status, body=b"", ctype="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Replay-Nonce", self.nonce())
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        if self.path != "/nonce":
            return self.reply(404)
        self.reply(200)

    def do_GET(self):
        if self.path != "/dir":
            return self.reply(404)
        b = self.base()
        d = {"newNonce": b + "/nonce", "newAccount": b + "/acct", "newOrder": b + "/order",
             "meta": {"termsOfService": b + "/tos"}}
        if SCENARIO == "eab":
            d["meta"]["externalAccountRequired"] = True
        self.reply(200, d)

    def jws(self):
        """The verified payload (bytes) and protected header of the POST."""
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Type") != "application/jose+json":
            raise Problem(415, "malformed", "fake: Content-Type " + str(self.headers.get("Content-Type")))
        obj = json.loads(body)
        if sorted(obj) != ["payload", "protected", "signature"]:
            raise Problem(400, "malformed", "fake: members %s" % sorted(obj))
        hdr = json.loads(b64d(obj["protected"]))
        if hdr.get("alg") != "ES256" or hdr.get("url") != self.base() + self.path:
            raise Problem(400, "malformed", "fake: alg or url in %s" % hdr)
        n = hdr.get("nonce")
        if n not in S["issued"]:
            raise Problem(400, "badNonce", "fake: nonce %s was never issued or is used" % n)
        S["issued"].discard(n)
        if SCENARIO == "alwaysbad" or (SCENARIO == "badnonce" and self.path not in S["rejected"]):
            S["rejected"].add(self.path)
            raise Problem(400, "badNonce", "JWS has an invalid anti-replay nonce")
        if ("jwk" in hdr) == ("kid" in hdr) or ("jwk" in hdr) != (self.path == "/acct"):
            raise Problem(400, "malformed", "fake: jwk/kid in %s" % hdr)
        key = jwk.JWK(**hdr["jwk"]) if "jwk" in hdr else S["accounts"].get(hdr["kid"])
        if key is None:
            raise Problem(400, "accountDoesNotExist", "fake: no account " + hdr["kid"])
        t = jws.JWS()
        t.deserialize(body.decode())
        t.verify(key, alg="ES256")
        return t.payload, hdr

    def do_POST(self):
        try:
            payload, hdr = self.jws()
            self.route(payload, hdr)
        except Problem as p:
            self.reply(p.status, p.doc, "application/problem+json")

    def route(self, payload, hdr):
        b, path = self.base(), self.path
        get = payload == b""
        if path == "/acct":
            req = json.loads(payload)
            url = b + "/acct/" + jwk.JWK(**hdr["jwk"]).thumbprint()
            known = url in S["accounts"]
            if req.get("onlyReturnExisting") and not known:
                raise Problem(400, "accountDoesNotExist", "No account exists with the provided key")
            if not req.get("onlyReturnExisting") and req.get("termsOfServiceAgreed") is not True:
                raise Problem(400, "malformed", "fake: terms of service not agreed")
            S["accounts"][url] = jwk.JWK(**hdr["jwk"])
            st = "deactivated" if SCENARIO == "deactivated" else "valid"
            return self.reply(200 if known else 201, {"status": st, "contact": req.get("contact", []),
                                                      "orders": url + "/orders"}, headers=[("Location", url)])
        if path == "/order":
            ids = json.loads(payload)["identifiers"]
            names = [i["value"] for i in ids]
            for k, name in enumerate(names):
                base_name = name[2:] if name.startswith("*.") else name
                if SCENARIO == "foreign" and k == 1:
                    base_name = "evil.example"
                S["authz"][str(k)] = {"name": base_name, "wild": name.startswith("*."), "status": "pending",
                                      "answered": False, "polls": 0}
            S["order"] = {"status": "pending", "names": names, "polls": 0}
            return self.reply(201, self.order_obj(), headers=[("Location", b + "/order/1")])
        if path.startswith("/authz/"):
            a = S["authz"][path[7:]]
            headers = []
            if a["answered"] and a["status"] == "pending":
                a["polls"] += 1
                if a["polls"] > 2:
                    a["status"] = "invalid" if SCENARIO == "invalid" and path == "/authz/1" else "valid"
                else:
                    headers = self.retry_after(2)
            return self.reply(200, self.authz_obj(path[7:]), headers=headers)
        if path.startswith("/chall/"):
            if payload != b"{}":
                raise Problem(400, "malformed", "fake: challenge answered with %r" % payload)
            S["authz"][path[7:]]["answered"] = True
            return self.reply(200, self.chall_obj(path[7:], "processing"))
        if path == "/order/1":
            o = S["order"]
            if o["status"] == "pending" and all(a["status"] == "valid" for a in S["authz"].values()):
                o["status"] = "ready"
            headers = []
            if o["status"] == "processing":
                o["polls"] += 1
                if o["polls"] >= 1:
                    o["status"] = "valid"
                else:
                    headers = self.retry_after(7)
            return self.reply(200, self.order_obj(), headers=headers)
        if path == "/finalize/1":
            o = S["order"]
            if o["status"] != "ready":
                raise Problem(403, "orderNotReady", "fake: order is " + o["status"])
            csr = x509.load_der_x509_csr(b64d(json.loads(payload)["csr"]))
            sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            if sorted(sans.get_values_for_type(x509.DNSName)) != sorted(o["names"]):
                raise Problem(400, "badCSR", "fake: CSR names %s" % sans)
            if SCENARIO == "badcsr":
                raise Problem(400, "badCSR", "CSR is unacceptable",
                              [{"type": ERR + "rejectedIdentifier", "detail": "no certificates for this one",
                                "identifier": {"type": "dns", "value": o["names"][0]}}])
            o["status"] = "processing"
            return self.reply(200, self.order_obj(), headers=self.retry_after(7))
        if path == "/cert/1" and get:
            if self.headers.get("Accept") != "application/pem-certificate-chain":
                raise Problem(406, "malformed", "fake: Accept " + str(self.headers.get("Accept")))
            return self.reply(200, open(CHAIN, "rb").read(), "application/pem-certificate-chain")
        raise Problem(404, "malformed", "fake: no " + path)

    def retry_after(self, secs):
        if SCENARIO in ("clamp", "deadline"):
            return [("Retry-After", "3600")]
        if SCENARIO == "httpdate":
            return [("Retry-After", email.utils.formatdate(time.time() + 5, usegmt=True))]
        if SCENARIO == "noretry":
            return []
        return [("Retry-After", str(secs))]

    def chall_obj(self, k, status):
        c = {"type": "dns-01", "url": self.base() + "/chall/" + k, "token": "token-" + k + "_AbC", "status": status}
        if S["authz"][k]["status"] == "invalid":
            c["error"] = {"type": ERR + "unauthorized", "detail": "fake: wrong TXT at _acme-challenge"}
        return c

    def authz_obj(self, k):
        a = S["authz"][k]
        http01 = {"type": "http-01", "url": self.base() + "/chall/h" + k, "token": "h", "status": "pending"}
        st = a["status"] if a["status"] != "pending" or not a["answered"] else "processing"
        obj = {"status": a["status"], "identifier": {"type": "dns", "value": a["name"]},
               "challenges": [http01, self.chall_obj(k, st)]}
        if a["wild"]:
            obj["wildcard"] = True
        return obj

    def order_obj(self):
        o, b = S["order"], self.base()
        obj = {"status": o["status"], "identifiers": [{"type": "dns", "value": n} for n in o["names"]],
               "authorizations": [b + "/authz/" + k for k in sorted(S["authz"])],
               "finalize": b + "/finalize/1"}
        if o["status"] == "valid":
            obj["certificate"] = b + "/cert/1"
        return obj


srv = HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_port, os.getpid(), flush=True)
srv.serve_forever()
