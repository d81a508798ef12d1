"""boto3-free S3 artifact repository for the MLflow tracking server (bklite's mlflow service).

The image bk-lite's fork builds (deploy/docker/mlflow/Dockerfile: ghcr.io/mlflow/mlflow plus psycopg2-binary) has
core MLflow only, whose s3:// artifact store needs boto3, which it lacks. The program writes this module into the
container as bklite_s3.py, with a *.dist-info directory registering it through the ``mlflow.artifact_repository``
entry point group under the name ``s3``, which replaces MLflow's boto3-based repository in every process MLflow
starts (PYTHONPATH names the directory). Standard library only.

Environment (the same names MLflow's own S3 repository reads):
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (optional)
  AWS_DEFAULT_REGION or AWS_REGION (default us-east-1)
  MLFLOW_S3_ENDPOINT_URL (e.g. http://minio:9000; path-style addressing is used)
  MLFLOW_S3_IGNORE_TLS=true to skip certificate checks on https endpoints
  BKLITE_S3_TRACE=1 to print each repository call (with the pid) to stderr

Also a small CLI for the launcher:
  python -m bklite_s3 ensure-bucket s3://bucket/ [--wait SECONDS]
  python -m bklite_s3 ls s3://bucket/prefix [--max-keys N]
"""

import datetime
import hashlib
import hmac
import http.client
import mimetypes
import os
import ssl
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_CHUNK = 1024 * 1024
_TRACE = os.environ.get("BKLITE_S3_TRACE") == "1"


def _trace(*args):
    if _TRACE:
        print(f"bklite_s3[pid {os.getpid()}]", *args, file=sys.stderr, flush=True)


class S3Error(Exception):
    def __init__(self, status, code, message):
        super().__init__(f"S3 error {status} {code}: {message}")
        self.status, self.code = status, code


def _quote(s, safe="-_.~"):
    return urllib.parse.quote(s, safe=safe)


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class S3Client:
    """Minimal S3 client: path-style URLs, AWS Signature Version 4."""

    def __init__(self, endpoint=None, access_key=None, secret_key=None, region=None, token=None):
        env = os.environ.get
        self.region = region or env("AWS_DEFAULT_REGION") or env("AWS_REGION") or "us-east-1"
        endpoint = endpoint or env("MLFLOW_S3_ENDPOINT_URL") or (
            f"https://s3.{self.region}.amazonaws.com"
        )
        u = urllib.parse.urlsplit(endpoint)
        self.https = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port or (443 if self.https else 80)
        default_port = 443 if self.https else 80
        self.host_header = self.host if self.port == default_port else f"{self.host}:{self.port}"
        self.access_key = access_key or env("AWS_ACCESS_KEY_ID") or ""
        self.secret_key = secret_key or env("AWS_SECRET_ACCESS_KEY") or ""
        self.token = token or env("AWS_SESSION_TOKEN")
        self.ignore_tls = env("MLFLOW_S3_IGNORE_TLS", "").lower() == "true"

    # -- signing -----------------------------------------------------------
    def _sign(self, method, path, query, headers, payload_hash):
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        day = amz_date[:8]
        headers["Host"] = self.host_header
        headers["x-amz-date"] = amz_date
        headers["x-amz-content-sha256"] = payload_hash
        if self.token:
            headers["x-amz-security-token"] = self.token
        signed = {k.lower(): " ".join(str(v).split()) for k, v in headers.items()}
        names = sorted(signed)
        canonical_request = "\n".join([
            method,
            path,
            query,
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            payload_hash,
        ])
        scope = f"{day}/{self.region}/s3/aws4_request"
        string_to_sign = "\n".join([
            "AWS4-HMAC-SHA256",
            amz_date,
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ])
        key = _hmac(("AWS4" + self.secret_key).encode(), day)
        for part in (self.region, "s3", "aws4_request"):
            key = _hmac(key, part)
        signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, "
            f"SignedHeaders={';'.join(names)}, Signature={signature}"
        )

    # -- transport ---------------------------------------------------------
    def request(self, method, bucket, key="", params=None, headers=None, body=None,
                payload_hash=_EMPTY_SHA256, ok=(200, 204)):
        """Send one signed request; return the open response (caller reads it)."""
        path = "/" + _quote(bucket) + ("/" + _quote(key, safe="/-_.~") if key else "")
        query = "&".join(
            f"{_quote(k)}={_quote(str(v))}" for k, v in sorted((params or {}).items())
        )
        headers = dict(headers or {})
        self._sign(method, path, query, headers, payload_hash)
        if self.https:
            ctx = ssl.create_default_context()
            if self.ignore_tls:
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
            conn = http.client.HTTPSConnection(
                self.host, self.port, timeout=300, context=ctx, blocksize=_CHUNK
            )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=300, blocksize=_CHUNK)
        conn.request(method, path + ("?" + query if query else ""), body=body, headers=headers)
        resp = conn.getresponse()
        if resp.status not in ok:
            data = resp.read()
            conn.close()
            code, message = str(resp.status), resp.reason
            try:
                root = ET.fromstring(data)
                code = root.findtext("Code") or code
                message = root.findtext("Message") or message
            except ET.ParseError:
                pass
            raise S3Error(resp.status, code, message)
        return resp

    # -- operations --------------------------------------------------------
    def put_file(self, bucket, key, local_path, content_type=None):
        sha = hashlib.sha256()
        with open(local_path, "rb") as f:
            while chunk := f.read(_CHUNK):
                sha.update(chunk)
        headers = {"Content-Length": str(os.path.getsize(local_path))}
        if content_type:
            headers["Content-Type"] = content_type
        with open(local_path, "rb") as f:
            self.request("PUT", bucket, key, headers=headers, body=f,
                         payload_hash=sha.hexdigest()).read()

    def get_file(self, bucket, key, local_path):
        resp = self.request("GET", bucket, key)
        with open(local_path, "wb") as f:
            while chunk := resp.read(_CHUNK):
                f.write(chunk)

    def delete(self, bucket, key):
        self.request("DELETE", bucket, key).read()

    def list(self, bucket, prefix="", delimiter=None, max_keys=None):
        """ListObjectsV2, following continuation tokens.

        Yields ("dir", prefix, None) for CommonPrefixes and ("file", key, size) for objects.
        """
        params = {"list-type": "2", "prefix": prefix, "encoding-type": "url"}
        if delimiter:
            params["delimiter"] = delimiter
        if max_keys:
            params["max-keys"] = str(max_keys)
        while True:
            root = ET.fromstring(self.request("GET", bucket, params=params).read())
            dec = (urllib.parse.unquote if root.findtext("{*}EncodingType") == "url"
                   else (lambda s: s))
            for cp in root.findall("{*}CommonPrefixes"):
                yield "dir", dec(cp.findtext("{*}Prefix")), None
            for obj in root.findall("{*}Contents"):
                yield "file", dec(obj.findtext("{*}Key")), int(obj.findtext("{*}Size") or 0)
            token = root.findtext("{*}NextContinuationToken")
            if root.findtext("{*}IsTruncated") != "true" or not token:
                return
            params["continuation-token"] = token

    def ensure_bucket(self, bucket):
        """HEAD the bucket; create it on 404. Returns True if it was created."""
        try:
            self.request("HEAD", bucket).read()
            return False
        except S3Error as e:
            if e.status != 404:
                raise
        body = b""
        if self.region != "us-east-1":
            body = (
                '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                f"<LocationConstraint>{self.region}</LocationConstraint>"
                "</CreateBucketConfiguration>"
            ).encode()
        try:
            self.request("PUT", bucket, headers={"Content-Length": str(len(body))}, body=body,
                         payload_hash=hashlib.sha256(body).hexdigest()).read()
        except S3Error as e:  # lost a race with another starter
            if e.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
        return True


def parse_s3_uri(uri):
    u = urllib.parse.urlsplit(uri)
    if u.scheme != "s3" or not u.netloc:
        raise ValueError(f"Not an s3:// URI: {uri}")
    return u.netloc, u.path.strip("/")


# -- MLflow artifact repository ---------------------------------------------
# mlflow is imported only when MLflow first asks for an s3:// repository: any
# `import mlflow.*` runs mlflow/__init__, which loads the artifact-repository entry
# points, so a top-level import here would be circular (and the `s3` override would
# silently not register in a process that imported this module first).
_repository_class = None


def s3_artifact_repository(artifact_uri, tracking_uri=None, registry_uri=None, **kwargs):
    """Entry-point target; MLflow calls it like a repository class."""
    global _repository_class
    if _repository_class is None:
        _repository_class = _define_repository_class()
    return _repository_class(artifact_uri, tracking_uri, registry_uri)


def _define_repository_class():
    from mlflow.entities import FileInfo
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import (
        INTERNAL_ERROR,
        PERMISSION_DENIED,
        RESOURCE_DOES_NOT_EXIST,
    )
    from mlflow.store.artifact.artifact_repo import ArtifactRepository

    def _mlflow_error(e, what):
        code = {404: RESOURCE_DOES_NOT_EXIST, 403: PERMISSION_DENIED}.get(e.status, INTERNAL_ERROR)
        return MlflowException(f"{what}: {e}", error_code=code)

    class BkliteS3ArtifactRepository(ArtifactRepository):
        """s3://bucket/root artifact repository that needs no boto3."""

        def __init__(self, artifact_uri, tracking_uri=None, registry_uri=None, **kwargs):
            super().__init__(artifact_uri, tracking_uri, registry_uri)
            self.bucket, self.root = parse_s3_uri(artifact_uri)
            _trace("__init__", artifact_uri)

        def _key(self, rel_path=None):
            rel_path = (rel_path or "").strip("/")
            return "/".join(p for p in (self.root, rel_path) if p)

        def _rel(self, key):
            return key[len(self.root) + 1:] if self.root else key

        def _put(self, client, local_file, key):
            ctype, _ = mimetypes.guess_type(local_file)
            try:
                client.put_file(self.bucket, key, local_file, ctype)
            except S3Error as e:
                raise _mlflow_error(e, f"Failed to upload s3://{self.bucket}/{key}") from e

        def log_artifact(self, local_file, artifact_path=None):
            _trace("log_artifact", local_file, artifact_path)
            key = self._key(artifact_path)
            key = (key + "/" if key else "") + os.path.basename(local_file)
            self._put(S3Client(), local_file, key)

        def log_artifacts(self, local_dir, artifact_path=None):
            _trace("log_artifacts", local_dir, artifact_path)
            client = S3Client()
            local_dir = os.path.abspath(local_dir)
            base = self._key(artifact_path)
            for dirpath, _, filenames in os.walk(local_dir):
                rel_dir = os.path.relpath(dirpath, local_dir).replace(os.sep, "/")
                for name in filenames:
                    rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                    key = f"{base}/{rel}" if base else rel
                    self._put(client, os.path.join(dirpath, name), key)

        def list_artifacts(self, path=None):
            _trace("list_artifacts", path)
            dest = self._key(path)
            prefix = dest + "/" if dest else ""
            infos = []
            try:
                for kind, key, size in S3Client().list(self.bucket, prefix, "/"):
                    if kind == "dir":
                        infos.append(FileInfo(self._rel(key).rstrip("/"), True, None))
                    elif not (key.endswith("/") and size == 0):  # skip directory markers
                        infos.append(FileInfo(self._rel(key), False, size))
            except S3Error as e:
                raise _mlflow_error(e, f"Failed to list {self.artifact_uri}") from e
            return sorted(infos, key=lambda f: f.path)

        def _download_file(self, remote_file_path, local_path):
            _trace("_download_file", remote_file_path)
            key = self._key(remote_file_path)
            try:
                S3Client().get_file(self.bucket, key, local_path)
            except S3Error as e:
                raise _mlflow_error(e, f"Failed to download s3://{self.bucket}/{key}") from e

        def delete_artifacts(self, artifact_path=None):
            _trace("delete_artifacts", artifact_path)
            dest = self._key(artifact_path)
            client = S3Client()
            try:
                # Collect the listing first so deletions don't disturb pagination.
                keys = [k for _, k, _ in client.list(self.bucket, dest)
                        if not dest or k == dest or k.startswith(dest + "/")]
                for key in keys:
                    client.delete(self.bucket, key)
            except S3Error as e:
                raise _mlflow_error(e, f"Failed to delete {artifact_path!r}") from e

    return BkliteS3ArtifactRepository


def main(argv):
    if len(argv) < 2 or argv[0] not in ("ensure-bucket", "ls"):
        print(__doc__, file=sys.stderr)
        return 2
    bucket, prefix = parse_s3_uri(argv[1])
    client = S3Client()
    if argv[0] == "ls":
        max_keys = int(argv[argv.index("--max-keys") + 1]) if "--max-keys" in argv else None
        for _, key, size in client.list(bucket, prefix, max_keys=max_keys):
            print(f"{size:>12} s3://{bucket}/{key}")
        return 0
    wait = float(argv[argv.index("--wait") + 1]) if "--wait" in argv else 0
    deadline = time.monotonic() + wait
    while True:
        try:
            created = client.ensure_bucket(bucket)
            print(f"bucket {bucket}: {'created' if created else 'exists'}", file=sys.stderr)
            return 0
        except (OSError, S3Error) as e:
            if time.monotonic() >= deadline:
                print(f"bucket {bucket}: {e}", file=sys.stderr)
                return 1
            time.sleep(1)


_trace("module loaded")

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
