package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func newTestAPI(t *testing.T, rules []kubeRule) *httptest.Server {
	t.Helper()
	ctx, _, err := newContext("", nil)
	if err != nil {
		t.Fatal(err)
	}
	api := &kubeAPI{ctx: ctx, created: map[string]int{}, cfg: kubeConfig{
		Tokens:    map[string]kubeToken{"good": {User: "system:serviceaccount:ns:sa", Rules: rules}},
		Pipelines: []string{"ns/llmsweep"},
		Statuses:  []map[string]any{{"completionTime": "t"}},
	}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, srv *httptest.Server, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

var allRules = []kubeRule{{APIGroups: []string{"tekton.dev"}, Resources: []string{"pipelines", "pipelineruns"}, Verbs: []string{"get", "list", "create"}}}

const runs = "/apis/tekton.dev/v1/namespaces/ns/pipelineruns"

func TestKubeAPICreatesValidRunsOnly(t *testing.T) {
	srv := newTestAPI(t, allRules)
	valid := `{"apiVersion":"tekton.dev/v1","kind":"PipelineRun","metadata":{"generateName":"x-","labels":{"d":"a"}},"spec":{"pipelineRef":{"name":"llmsweep"}}}`
	code, obj := call(t, srv, "POST", runs, "good", valid)
	if code != 201 || obj["metadata"].(map[string]any)["name"] != "x-00001" {
		t.Fatalf("valid run: %d %v", code, obj)
	}
	for _, bad := range []string{
		`{"apiVersion":"tekton.dev/v1","kind":"PipelineRun","metadata":{"generateName":"x-"},"spec":{"pipelineRef":{"name":"p"},"bogus":1}}`,
		`{"apiVersion":"tekton.dev/v1","kind":"PipelineRun","metadata":{"generateName":"x-"},"spec":{}}`,
	} {
		code, obj := call(t, srv, "POST", runs, "good", bad)
		if code != 422 || obj["reason"] != "Invalid" {
			t.Errorf("%s: %d %v", bad, code, obj)
		}
	}
	code, obj = call(t, srv, "GET", runs+"?labelSelector=d%3Da", "good", "")
	if items := obj["items"].([]any); code != 200 || len(items) != 1 {
		t.Errorf("list: %d %v", code, obj)
	}
	code, obj = call(t, srv, "GET", runs+"?labelSelector=d%3Db", "good", "")
	if items := obj["items"].([]any); code != 200 || len(items) != 0 {
		t.Errorf("list of another label: %d %v", code, obj)
	}
	code, obj = call(t, srv, "GET", runs+"/x-00001", "good", "")
	if code != 200 || obj["status"].(map[string]any)["completionTime"] != "t" {
		t.Errorf("scripted status: %d %v", code, obj)
	}
}

func TestKubeAPIChecksTokensAndRules(t *testing.T) {
	srv := newTestAPI(t, []kubeRule{{APIGroups: []string{"tekton.dev"}, Resources: []string{"pipelines"}, Verbs: []string{"get"}}})
	if code, obj := call(t, srv, "GET", "/apis/tekton.dev/v1/namespaces/ns/pipelines/llmsweep", "wrong", ""); code != 401 || obj["reason"] != "Unauthorized" {
		t.Errorf("wrong token: %d %v", code, obj)
	}
	if code, _ := call(t, srv, "GET", "/apis/tekton.dev/v1/namespaces/ns/pipelines/llmsweep", "good", ""); code != 200 {
		t.Errorf("allowed get: %d", code)
	}
	if code, obj := call(t, srv, "GET", "/apis/tekton.dev/v1/namespaces/ns/pipelines/other", "good", ""); code != 404 || obj["reason"] != "NotFound" {
		t.Errorf("missing pipeline: %d %v", code, obj)
	}
	code, obj := call(t, srv, "POST", runs, "good", "{}")
	if msg, _ := obj["message"].(string); code != 403 || !strings.Contains(msg, `cannot create resource "pipelineruns"`) {
		t.Errorf("create without the verb: %d %v", code, obj)
	}
}
