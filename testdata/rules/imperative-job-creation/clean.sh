#!/bin/sh
set -eu
# kubectl run is not used here
kubectl apply -f deploy/
kubectl get jobs -n ops
echo "kubectl create job x"
