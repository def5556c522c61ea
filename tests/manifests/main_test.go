package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"knative.dev/pkg/apis"
)

func check(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	rc := run(args, strings.NewReader(stdin), &out, &errOut)
	return rc, out.String() + errOut.String()
}

func TestValid(t *testing.T) {
	for _, files := range [][]string{
		{"testdata/valid-task.yaml"},
		{"testdata/valid-task.yaml", "testdata/valid-pipeline.yaml"},
		{"testdata/valid-task.yaml", "testdata/valid-pipeline.yaml", "testdata/valid-pipelinerun.yaml"},
		{"testdata/valid-stepaction.yaml"},
	} {
		rc, out := check(t, "", files...)
		if rc != 0 || !strings.Contains(out, " 0 errors") {
			t.Errorf("%v: rc=%d, want 0\n%s", files, rc, out)
		}
	}
}

func TestValidFromStdin(t *testing.T) {
	var in []byte
	for _, f := range []string{"valid-task.yaml", "valid-pipeline.yaml", "valid-pipelinerun.yaml"} {
		b, err := os.ReadFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		in = append(append(in, b...), "\n---\n"...)
	}
	rc, out := check(t, string(in))
	if rc != 0 || !strings.Contains(out, "skip  <stdin>#2 ConfigMap llmsweep-specs") ||
		!strings.Contains(out, "ok    <stdin>#4 PipelineRun llmsweep-*") {
		t.Errorf("rc=%d\n%s", rc, out)
	}
}

// TestKustomizeBuild runs `$KUSTOMIZE build testdata` (set KUSTOMIZE to the
// path that build-tools prints) and checks its output.
func TestKustomizeBuild(t *testing.T) {
	kustomize := os.Getenv("KUSTOMIZE")
	if kustomize == "" {
		t.Skip("KUSTOMIZE is not set (eval \"$(./build-tools)\" first)")
	}
	b, err := exec.Command(kustomize, "build", "testdata").Output()
	if err != nil {
		t.Fatalf("kustomize build testdata: %v", err)
	}
	rc, out := check(t, string(b))
	want := []string{
		"skip  <stdin>#1 ConfigMap llmsweep/llmsweep-specs",
		"ok    <stdin>#2 Pipeline llmsweep/llmsweep",
		"ok    <stdin>#3 Task llmsweep/llmsweep-run",
		"ok    <stdin>#5 StepAction llmsweep/llmsweep-wait",
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	if rc != 0 || !strings.Contains(string(b), "image: registry.invalid/team/llmsweep@sha256:1111") {
		t.Errorf("rc=%d (images not rewritten?)\n%s\n%s", rc, out, b)
	}
}

func expectErrors(t *testing.T, want []string, files ...string) {
	t.Helper()
	rc, out := check(t, "", files...)
	if rc != 1 {
		t.Errorf("%v: rc=%d, want 1\n%s", files, rc, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("%v: output lacks %q\n%s", files, w, out)
		}
	}
	if got := strings.Count("\n"+out, "\nERROR "); got != len(want) {
		t.Errorf("%v: %d errors, want %d\n%s", files, got, len(want), out)
	}
}

func TestUnknownFields(t *testing.T) {
	expectErrors(t, []string{
		`Task typo: strict decoding: unknown field "spec.Params"`,
		`Task typo: strict decoding: unknown field "spec.steps[0].comand"`,
	}, "testdata/invalid-unknown-field.yaml")
}

func TestSemantics(t *testing.T) {
	expectErrors(t, []string{
		`Task bad: script cannot be used with command: spec.steps[0].script`,
		`Task bad: non-existent variable in "$(params.undeclared)": spec.steps[1].args[0]`,
		`Task bad: $(workspaces.out...) refers to no declared workspace`,
	}, "testdata/invalid-semantics.yaml")
}

func TestPipeline(t *testing.T) {
	expectErrors(t, []string{
		`Pipeline bad-pipeline: invalid value: pipeline tasks can not refer to execution status`,
		`PipelineRun bad-pipeline-*: strict decoding: unknown field "spec.timeout"`,
		`PipelineRun bad-pipeline-*: invalid value: 50m0s + 20m0s should be <= pipeline duration`,
		`Task old-api: unsupported Tekton object tekton.dev/v1beta1 Task`,
		`pipeline task "sweep": missing values for task params which have no default: endpoint`,
		`pipeline task "sweep": param "endpont" is passed but the task declares no such param`,
		`pipeline task "sweep": param "extra-args" is a string but the task declares it as array`,
		`pipeline task "sweep": pipeline workspace "cache" is optional but the Task requires workspace "results"`,
		`result "summary": "nosuch" is not a result declared by the Task of pipeline task "sweep"`,
		`PipelineRun bad-pipeline-*: missing values for pipeline params which have no default: endpoint`,
		`PipelineRun bad-pipeline-*: param "endpiont" is passed but the pipeline declares no such param`,
		`PipelineRun bad-pipeline-*: pipeline requires workspace "results" to be provided by the PipelineRun`,
	}, "testdata/valid-task.yaml", "testdata/invalid-pipeline.yaml")
}

func TestMissingTask(t *testing.T) {
	expectErrors(t, []string{
		`pipeline task "sweep": taskRef "llmsweep-run": no Task of that name in the input`,
		`pipeline task "publish": taskRef "llmsweep-run": no Task of that name in the input`,
	}, "testdata/valid-pipeline.yaml")
	rc, out := check(t, "", "-no-crossref", "testdata/valid-pipeline.yaml")
	if rc != 0 {
		t.Errorf("-no-crossref: rc=%d\n%s", rc, out)
	}
}

func TestFeatureFlags(t *testing.T) {
	matrix := `apiVersion: tekton.dev/v1
kind: Pipeline
metadata: {name: m}
spec:
  tasks:
    - name: t
      matrix:
        params: [{name: x, value: ["a", "b"]}]
      taskSpec:
        params: [{name: x}]
        steps: [{name: s, image: busybox, command: ["echo", "$(params.x)"]}]
`
	if rc, out := check(t, matrix); rc != 0 {
		t.Errorf("matrix with default flags (beta): rc=%d\n%s", rc, out)
	}
	if rc, out := check(t, matrix, "-api-fields", "stable"); rc != 1 || !strings.Contains(out, `matrix requires "enable-api-fields" feature gate`) {
		t.Errorf("matrix with stable: rc=%d\n%s", rc, out)
	}
	if rc, _ := check(t, "", "-feature", "enable-api-fields=bogus"); rc != 2 {
		t.Errorf("bogus flag value: rc=%d, want 2", rc)
	}
}

func TestWarningsFail(t *testing.T) {
	var out bytes.Buffer
	c := &checker{out: &out}
	c.report("X", apis.ErrGeneric("deprecated thing", "spec.x").At(apis.WarningLevel))
	if c.errs != 1 || !strings.Contains(out.String(), "ERROR X: warning: deprecated thing: spec.x") {
		t.Errorf("errs=%d\n%s", c.errs, out.String())
	}
}

func TestBadInput(t *testing.T) {
	for _, in := range []string{"kind: Task\n", "a: [\n", "apiVersion: tekton.dev/v1\nkind: Task\nmetadata: {name: d}\nspec: {steps: [{image: x}]}\nspec: {}\n"} {
		if rc, out := check(t, in); rc != 1 {
			t.Errorf("%q: rc=%d, want 1\n%s", in, rc, out)
		}
	}
	if rc, _ := check(t, "", "testdata/does-not-exist.yaml"); rc != 2 {
		t.Errorf("missing file: rc=%d, want 2", rc)
	}
	if rc, out := check(t, "# only a comment\n---\n"); rc != 0 {
		t.Errorf("empty stream: rc=%d\n%s", rc, out)
	}
}

// TestJSONDump: -json writes every document (Tekton or not, Lists expanded)
// as one JSON array, in input order, whatever the check finds.
func TestJSONDump(t *testing.T) {
	out := t.TempDir() + "/docs.json"
	rc, text := check(t, "", "-json", out, "testdata/valid-task.yaml", "testdata/valid-pipeline.yaml")
	if rc != 0 {
		t.Fatalf("rc=%d\n%s", rc, text)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	if err := json.Unmarshal(b, &docs); err != nil {
		t.Fatalf("not a JSON array: %v\n%s", err, b)
	}
	var kinds []string
	for _, d := range docs {
		kinds = append(kinds, d["kind"].(string))
	}
	if got := strings.Join(kinds, ","); got != "Task,ConfigMap,Pipeline" {
		t.Errorf("kinds %s, want Task,ConfigMap,Pipeline", got)
	}
	rc, _ = check(t, "", "-json", out, "testdata/invalid-unknown-field.yaml")
	if rc != 1 {
		t.Errorf("invalid input: rc=%d, want 1 (the dump does not hide errors)", rc)
	}
	if b, _ := os.ReadFile(out); !bytes.HasPrefix(b, []byte("[{")) {
		t.Errorf("invalid input: the dump is still written, got %q", b)
	}
}
