#!/bin/sh
set -eu
kubectl apply -f deploy/
kubectl -n ops create cronjob sync --image=alpine --schedule='* * * * *' -- sh -c 'sync' # expect: imperative-job-creation
kubectl apply -f https://example.com/job.yaml # expect: imperative-job-creation
curl -sL https://example.com/m.yaml | kubectl apply -f - # expect: imperative-job-creation
kubectl run debug --image=busybox --restart=Never # expect: imperative-job-creation
