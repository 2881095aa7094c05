// Command otelrr-manifestcheck checks Kubernetes manifests against the API's own Go types (k8s.io/api at
// the release go.mod pins): every document of every file is decoded strictly into the type its apiVersion
// and kind name, so a misspelt field, a field in the wrong place or a value of the wrong type is an error.
// It needs no cluster. otelrr's tests run it on deploy/kubernetes/ (tests/integration/test_deploy_cli.py).
//
//	otelrr-manifestcheck FILE.yaml...
//
// Prints one line per document ("ok FILE#N Kind/name") and exits 1 when any document is wrong.
package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// The kinds otelrr's manifests use, by "apiVersion/kind".
func newObject(apiVersion, kind string) (any, bool) {
	switch apiVersion + "/" + kind {
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "v1/Service":
		return &corev1.Service{}, true
	case "v1/Secret":
		return &corev1.Secret{}, true
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, true
	case "batch/v1/Job":
		return &batchv1.Job{}, true
	}
	return nil, false
}

func check(file string, n int, doc []byte) error {
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Metadata   struct {
			Name string `json:"name"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &head); err != nil {
		return fmt.Errorf("%s#%d: not YAML: %v", file, n, err)
	}
	obj, ok := newObject(head.APIVersion, head.Kind)
	if !ok {
		return fmt.Errorf("%s#%d: apiVersion %q kind %q is not one this checker knows", file, n, head.APIVersion, head.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return fmt.Errorf("%s#%d (%s/%s): %v", file, n, head.Kind, head.Metadata.Name, err)
	}
	if head.Metadata.Name == "" {
		return fmt.Errorf("%s#%d (%s): metadata.name is missing", file, n, head.Kind)
	}
	fmt.Printf("ok %s#%d %s/%s\n", file, n, head.Kind, head.Metadata.Name)
	return nil
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: otelrr-manifestcheck FILE.yaml...")
		os.Exit(2)
	}
	failed := false
	for _, file := range os.Args[1:] {
		data, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed = true
			continue
		}
		for i, doc := range bytes.Split(data, []byte("\n---")) {
			if strings.TrimSpace(string(doc)) == "" {
				continue
			}
			if err := check(file, i+1, doc); err != nil {
				fmt.Fprintln(os.Stderr, err)
				failed = true
			}
		}
	}
	if failed {
		os.Exit(1)
	}
}
