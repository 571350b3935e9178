import json
from tests.test_drift import *
def test_dbg(project: Path, plugin_dir: Path, aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="fx-dev-stray", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_tagging(Bucket="fx-dev-stray", Tagging={"TagSet": [{"Key":"Project","Value":"fixture"},{"Key":"Environment","Value":"dev"}]})
    r = drift(project, plugin_dir, "--env", "dev")
    print(r.output)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"{aws}/not-an-aws-endpoint")
    r = drift(project, plugin_dir, "--env", "dev")
    print(r.output)
