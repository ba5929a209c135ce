# Generates actioncatalog.txt.gz, the action catalogue least-privilege
# hints count granted actions over (actioncatalog.go): for each service
# model of botocore (the models the AWS SDKs are generated from), its
# service prefix (the model's signingName, or endpointPrefix; a few
# overridden where IAM's prefix differs) and its API operation names.
# One line per prefix: "<prefix> <Operation> <Operation> ...".
#
#   python3 actioncatalog_gen.py | gzip -9n > actioncatalog.txt.gz
#
# API operations approximate IAM actions: most actions are operations of
# the same name, but some operations are authorized by an action of another
# name (S3's ListBuckets by s3:ListAllMyBuckets, ListObjectsV2 by
# s3:ListBucket), some actions have no operation of their own, and a few
# services' signing names differ from their IAM prefixes.
import botocore, os, json, glob, gzip, sys
d = os.path.join(os.path.dirname(botocore.__file__), 'data')
# IAM service prefixes that differ from the model's signingName.
override = {'monitoring': 'cloudwatch', 'email': 'ses', 'elasticloadbalancing': 'elasticloadbalancing'}
cat = {}
for svc in sorted(os.listdir(d)):
    vers = sorted(glob.glob(os.path.join(d, svc, '*', 'service-2.json*')))
    if not vers: continue
    p = vers[-1]
    op = gzip.open if p.endswith('.gz') else open
    with op(p, 'rt') as f: m = json.load(f)
    md = m['metadata']
    prefix = md.get('signingName') or md.get('endpointPrefix')
    prefix = override.get(prefix, prefix)
    cat.setdefault(prefix, set()).update(m['operations'].keys())
lines = [p + ' ' + ' '.join(sorted(ops)) for p, ops in sorted(cat.items())]
sys.stdout.write('\n'.join(lines) + '\n')
