#!/usr/bin/env bash
# Regenerates the TLS material the end-to-end tests use: a self-signed CA, a
# server certificate for 127.0.0.1/localhost signed by it, and a client
# certificate for mTLS. Test-only keys, valid for 100 years; never use them
# anywhere else. Run from anywhere: ./test/certs/generate.sh
set -euo pipefail
cd "$(dirname "$0")"
DAYS=36500

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days "$DAYS" -subj "/CN=otel-register test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=127.0.0.1" 2>/dev/null
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days "$DAYS" \
  -extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n') 2>/dev/null

openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj "/CN=otel-register test client" 2>/dev/null
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days "$DAYS" \
  -extfile <(printf 'extendedKeyUsage=clientAuth\n') 2>/dev/null

# A second, unrelated CA: a collector certificate it did not sign must be refused.
openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days "$DAYS" -subj "/CN=some other CA" 2>/dev/null

rm -f server.csr client.csr ca.srl ca.key other-ca.key
