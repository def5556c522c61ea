// Command tektoncheck validates Tekton objects offline with Tekton's own Go
// packages, the way the Tekton admission webhooks would on `kubectl create`.
//
// Usage:
//
//	kustomize build kustomize/overlays/full | tektoncheck
//	tektoncheck [flags] FILE...        (FILE "-" is standard input)
//	tektoncheck -json docs.json FILE... (also dump every document as JSON)
//
// Every YAML document is decoded. Documents whose apiVersion is in the
// tekton.dev group are checked:
//
//  1. strict decoding (sigs.k8s.io/json): unknown fields, duplicate keys and
//     keys that differ from a field name only in case are errors, in
//     metadata too. The webhook's encoding/json matches keys
//     case-insensitively and skips metadata; Kubernetes' own decoders are
//     case-sensitive, and kubectl checks metadata;
//  2. SetDefaults(ctx), as the defaulting webhook does;
//  3. Validate(ctx) inside apis.WithinCreate, as the validating webhook does;
//     errors and warnings (apis.WarningLevel) both fail the check.
//
// An object with only metadata.generateName gets a name first, as the API
// server gives it one before the webhooks run.
//
// Then, across all inputs (-no-crossref turns this off; see crossref.go),
// what Tekton only finds at run time or not at all: Pipeline tasks against
// the Tasks they name (params, types, workspaces, result references),
// PipelineRuns against their Pipeline, and $(workspaces.X...)/$(results.X...)
// in Tasks that name nothing declared.
//
// Supported: tekton.dev/v1 Task, Pipeline, TaskRun, PipelineRun and
// tekton.dev/v1beta1 StepAction. Any other tekton.dev kind or version is an
// error (the project uses v1 only). Other objects are listed and skipped.
//
// With -kubeapi CONFIG.json it serves instead a stand-in of the Kubernetes
// API for `llmsweep trigger`'s tests (kubeapi.go).
//
// Exit status: 0 all objects valid; 1 at least one problem; 2 bad usage or an
// unreadable file.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/tektoncd/pipeline/pkg/apis/config"
	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"knative.dev/pkg/apis"
	sigsjson "sigs.k8s.io/json"
	sigsyaml "sigs.k8s.io/yaml"
)

// tektonObject is what every supported Tekton type implements.
type tektonObject interface {
	SetDefaults(ctx context.Context)
	Validate(ctx context.Context) *apis.FieldError
}

// newObject returns an empty object for a supported apiVersion/kind, or nil.
func newObject(apiVersion, kind string) tektonObject {
	switch apiVersion + "/" + kind {
	case "tekton.dev/v1/Task":
		return &v1.Task{}
	case "tekton.dev/v1/Pipeline":
		return &v1.Pipeline{}
	case "tekton.dev/v1/TaskRun":
		return &v1.TaskRun{}
	case "tekton.dev/v1/PipelineRun":
		return &v1.PipelineRun{}
	case "tekton.dev/v1beta1/StepAction":
		return &v1beta1.StepAction{}
	}
	return nil
}

// header is the part of any object that is read before the strict decode.
type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name         string `json:"name"`
		GenerateName string `json:"generateName"`
		Namespace    string `json:"namespace"`
	} `json:"metadata"`
	Items []any `json:"items"`
}

func (h *header) id() string {
	name := h.Metadata.Name
	if name == "" && h.Metadata.GenerateName != "" {
		name = h.Metadata.GenerateName + "*"
	}
	if name == "" {
		name = "(no name)"
	}
	if h.Metadata.Namespace != "" {
		name = h.Metadata.Namespace + "/" + name
	}
	return h.Kind + " " + name
}

type checker struct {
	ctx       context.Context
	out       io.Writer
	quiet     bool
	checked   int
	skipped   int
	errs      int
	objects   []string // where of every Tekton object, for the "ok" lines
	docs      [][]byte // every document as JSON, for -json
	errWheres []string // where of every error
	// Tekton objects seen, for the cross-reference check.
	tasks     map[string]*v1.Task // by namespace/name
	taskList  []*namedTask
	pipelines []*namedPipeline
	runs      []*namedPipelineRun
}

type namedTask struct {
	where string
	t     *v1.Task
}

type namedPipeline struct {
	where string
	p     *v1.Pipeline
}

type namedPipelineRun struct {
	where string
	pr    *v1.PipelineRun
}

func (c *checker) errorf(where, format string, args ...any) {
	c.errs++
	c.errWheres = append(c.errWheres, where)
	msg := fmt.Sprintf(format, args...)
	lines := strings.Split(strings.TrimSpace(msg), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	fmt.Fprintf(c.out, "ERROR %s: %s\n", where, strings.Join(lines, " | "))
}

// checkStream splits r into YAML documents and checks each.
func (c *checker) checkStream(name string, r io.Reader) error {
	yr := utilyaml.NewYAMLReader(bufio.NewReader(r))
	for n := 1; ; n++ {
		doc, err := yr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: reading document %d: %w", name, n, err)
		}
		c.checkDocument(fmt.Sprintf("%s#%d", name, n), doc)
	}
}

// isEmptyDocument reports whether a document holds only comments and space.
func isEmptyDocument(doc []byte) bool {
	for _, line := range bytes.Split(doc, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' && string(t) != "---" {
			return false
		}
	}
	return true
}

func (c *checker) checkDocument(where string, doc []byte) {
	if isEmptyDocument(doc) {
		return
	}
	// YAMLToJSONStrict rejects duplicate keys; the JSON is then decoded twice.
	js, err := sigsyaml.YAMLToJSONStrict(doc)
	if err != nil {
		c.errorf(where, "invalid YAML: %v", err)
		return
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return
	}
	var h header
	if err := sigsyaml.Unmarshal(js, &h); err != nil {
		c.errorf(where, "not a Kubernetes object: %v", err)
		return
	}
	if h.APIVersion == "" || h.Kind == "" {
		c.errorf(where, "not a Kubernetes object: apiVersion and kind are required")
		return
	}
	if h.APIVersion == "v1" && h.Kind == "List" {
		for i, item := range h.Items {
			b, err := sigsyaml.Marshal(item)
			if err != nil {
				c.errorf(where, "items[%d]: %v", i, err)
				continue
			}
			c.checkDocument(fmt.Sprintf("%s items[%d]", where, i), b)
		}
		return
	}
	c.docs = append(c.docs, js)
	where = where + " " + h.id()
	group := h.APIVersion
	if i := strings.IndexByte(group, '/'); i >= 0 {
		group = group[:i]
	} else {
		group = ""
	}
	if group != "tekton.dev" {
		c.skipped++
		if !c.quiet {
			fmt.Fprintf(c.out, "skip  %s (%s)\n", where, h.APIVersion)
		}
		return
	}
	obj := newObject(h.APIVersion, h.Kind)
	if obj == nil {
		c.errorf(where, "unsupported Tekton object %s %s (supported: tekton.dev/v1 Task, Pipeline, TaskRun, PipelineRun; tekton.dev/v1beta1 StepAction)", h.APIVersion, h.Kind)
		return
	}
	c.checked++
	c.objects = append(c.objects, where)
	strictErrs, err := sigsjson.UnmarshalStrict(js, obj)
	if err != nil {
		c.errorf(where, "decoding: %v", err)
		return
	}
	for _, e := range strictErrs {
		c.errorf(where, "strict decoding: %v", e)
	}
	// The API server turns generateName into a name before any admission
	// webhook runs (names.SimpleNameGenerator: prefix cut to 58 characters
	// plus 5 random ones); do the same with a fixed suffix.
	if m, ok := obj.(metav1.Object); ok && m.GetName() == "" && m.GetGenerateName() != "" {
		prefix := m.GetGenerateName()
		if len(prefix) > 58 {
			prefix = prefix[:58]
		}
		m.SetName(prefix + "x0x0x")
	}
	obj.SetDefaults(c.ctx)
	c.report(where, obj.Validate(c.ctx))
	switch o := obj.(type) {
	case *v1.Task:
		if c.tasks == nil {
			c.tasks = map[string]*v1.Task{}
		}
		c.tasks[o.Namespace+"/"+o.Name] = o
		c.taskList = append(c.taskList, &namedTask{where, o})
	case *v1.Pipeline:
		c.pipelines = append(c.pipelines, &namedPipeline{where, o})
	case *v1.PipelineRun:
		c.runs = append(c.runs, &namedPipelineRun{where, o})
	}
}

// printOK prints "ok" for every Tekton object without an error in any phase.
func (c *checker) printOK() {
	for _, o := range c.objects {
		bad := false
		for _, w := range c.errWheres {
			if w == o || strings.HasPrefix(w, o+" ") {
				bad = true
				break
			}
		}
		if !bad {
			fmt.Fprintf(c.out, "ok    %s\n", o)
		}
	}
}

// report prints every error and every warning of fe; both count as errors.
// (Tekton v1.15 emits no warning-level FieldErrors, but knative's webhook
// would return them to kubectl as admission warnings.)
func (c *checker) report(where string, fe *apis.FieldError) {
	for _, e := range flatten(fe.Filter(apis.ErrorLevel)) {
		c.errorf(where, "%s", e)
	}
	for _, e := range flatten(fe.Filter(apis.WarningLevel)) {
		c.errorf(where, "warning: %s", e)
	}
}

// flatten turns a FieldError tree into one line per message, sorted.
// FieldError.Error() already merges the paths of equal messages; each
// resulting paragraph is one message.
func flatten(fe *apis.FieldError) []string {
	if fe == nil {
		return nil
	}
	var lines []string
	for _, e := range fe.WrappedErrors() {
		var f *apis.FieldError
		if errors.As(e, &f) {
			s := strings.TrimSuffix(strings.TrimSpace(f.Error()), ":")
			if s != "" {
				lines = append(lines, s)
			}
		}
	}
	if len(lines) == 0 {
		if s := strings.TrimSuffix(strings.TrimSpace(fe.Error()), ":"); s != "" {
			lines = append(lines, s)
		}
	}
	sort.Strings(lines)
	return lines
}

// multiFlag collects repeated -feature key=value flags.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// newContext returns the context Tekton's webhooks would see: the
// feature-flags ConfigMap parsed by Tekton itself (defaults for every key not
// given), default config-defaults, and apis.WithinCreate.
func newContext(apiFields string, features []string) (context.Context, *config.FeatureFlags, error) {
	m := map[string]string{}
	if apiFields != "" {
		m["enable-api-fields"] = apiFields
	}
	for _, f := range features {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, nil, fmt.Errorf("-feature %q: want KEY=VALUE", f)
		}
		m[k] = v
	}
	ff, err := config.NewFeatureFlagsFromMap(m)
	if err != nil {
		return nil, nil, fmt.Errorf("feature flags: %w", err)
	}
	cfg := config.FromContextOrDefaults(context.Background())
	cfg.FeatureFlags = ff
	ctx := config.ToContext(context.Background(), cfg)
	return apis.WithinCreate(ctx), ff, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tektoncheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	apiFields := fs.String("api-fields", "", "enable-api-fields: stable, beta or alpha (default: Tekton's default, beta)")
	var features multiFlag
	fs.Var(&features, "feature", "feature-flags ConfigMap entry KEY=VALUE (repeatable), e.g. -feature enable-param-enum=true")
	quiet := fs.Bool("q", false, "print only errors and the summary")
	noCross := fs.Bool("no-crossref", false, "skip the Pipeline -> Task cross-reference check")
	showFlags := fs.Bool("show-flags", false, "print the feature flags in effect and exit")
	kubeAPI := fs.String("kubeapi", "", "serve the Kubernetes API stand-in for `llmsweep trigger`'s tests, configured by this JSON file (see kubeapi.go), instead of checking files")
	jsonOut := fs.String("json", "", "also write every input document (all kinds, Lists expanded) as one JSON array to this file, for checks in other languages")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tektoncheck [flags] [FILE...]   (no FILE or \"-\": standard input)\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *kubeAPI != "" {
		return serveKubeAPI(*kubeAPI, stdout, stderr)
	}
	ctx, ff, err := newContext(*apiFields, features)
	if err != nil {
		fmt.Fprintf(stderr, "tektoncheck: %v\n", err)
		return 2
	}
	if *showFlags {
		b, _ := sigsyaml.Marshal(ff)
		stdout.Write(b)
		return 0
	}
	c := &checker{ctx: ctx, out: stdout, quiet: *quiet}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, name := range files {
		var r io.Reader
		if name == "-" {
			r, name = stdin, "<stdin>"
		} else {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintf(stderr, "tektoncheck: %v\n", err)
				return 2
			}
			defer f.Close()
			r = f
		}
		if err := c.checkStream(name, r); err != nil {
			c.errorf(name, "%v", err)
		}
	}
	if !*noCross {
		c.crossReference()
	}
	if *jsonOut != "" {
		if err := writeJSONArray(*jsonOut, c.docs); err != nil {
			fmt.Fprintf(stderr, "tektoncheck: %v\n", err)
			return 2
		}
	}
	if !*quiet {
		c.printOK()
	}
	fmt.Fprintf(stdout, "tektoncheck: %d Tekton objects checked, %d other objects skipped, %d errors (enable-api-fields=%s)\n",
		c.checked, c.skipped, c.errs, ff.EnableAPIFields)
	if c.errs > 0 {
		return 1
	}
	return 0
}

// writeJSONArray writes docs (each a JSON value) as one JSON array.
func writeJSONArray(path string, docs [][]byte) error {
	var b bytes.Buffer
	b.WriteString("[")
	for i, d := range docs {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.Write(bytes.TrimSpace(d))
	}
	b.WriteString("]\n")
	return os.WriteFile(path, b.Bytes(), 0o644)
}
