// The Kubernetes API stand-in for `llmsweep trigger`'s tests:
//
//	tektoncheck -kubeapi CONFIG.json
//
// serves the few endpoints `llmsweep trigger` uses, the way the API server
// and Tekton's admission webhooks would answer them:
//
//	GET  /apis/tekton.dev/v1/namespaces/NS/pipelines/NAME
//	GET  /apis/tekton.dev/v1/namespaces/NS/pipelineruns?labelSelector=K=V[,K=V]
//	POST /apis/tekton.dev/v1/namespaces/NS/pipelineruns
//	GET  /apis/tekton.dev/v1/namespaces/NS/pipelineruns/NAME
//
// Every request needs `Authorization: Bearer TOKEN` with a token of the
// config (else 401), and the token's RBAC rules must allow the verb on the
// resource (else 403), both as Kubernetes `Status` objects. A posted
// PipelineRun is decoded strictly into v1.PipelineRun, given a name from its
// generateName, defaulted (SetDefaults) and validated (Validate, within
// create) with Tekton's own packages; a problem is answered 422 Invalid with
// the errors in the Status message.
//
// A created run's status is scripted: the config's "statuses" are handed
// out one per GET of that run, the last one repeated, so a client that polls
// sees the run progress and finish without any clock in the test.
//
// It prints "listening on http(s)://127.0.0.1:PORT" once ready, and appends
// one JSON line per request to the config's "log" file: method, path, query,
// verb, resource, the HTTP status answered and the posted object.
package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	sigsjson "sigs.k8s.io/json"
)

type kubeRule struct {
	APIGroups []string `json:"apiGroups"`
	Resources []string `json:"resources"`
	Verbs     []string `json:"verbs"`
}

type kubeToken struct {
	User  string     `json:"user"`
	Rules []kubeRule `json:"rules"`
}

type kubeConfig struct {
	Listen       string               `json:"listen"`
	TLSCert      string               `json:"tlsCert"`
	TLSKey       string               `json:"tlsKey"`
	Tokens       map[string]kubeToken `json:"tokens"`
	Pipelines    []string             `json:"pipelines"`    // "NAMESPACE/NAME"
	PipelineRuns []map[string]any     `json:"pipelineRuns"` // pre-existing runs (metadata.namespace set)
	Statuses     []map[string]any     `json:"statuses"`     // scripted status of created runs
	Log          string               `json:"log"`
}

type kubeAPI struct {
	cfg     kubeConfig
	ctx     context.Context
	mu      sync.Mutex
	runs    []map[string]any
	created map[string]int // namespace/name of runs created here -> GETs so far
	serial  int
	log     *os.File
}

const tektonPrefix = "/apis/tekton.dev/v1/namespaces/"

func serveKubeAPI(configPath string, stdout, stderr io.Writer) int {
	b, err := os.ReadFile(configPath)
	if err != nil {
		fmt.Fprintf(stderr, "tektoncheck -kubeapi: %v\n", err)
		return 2
	}
	var cfg kubeConfig
	if err := json.Unmarshal(b, &cfg); err != nil {
		fmt.Fprintf(stderr, "tektoncheck -kubeapi: %s: %v\n", configPath, err)
		return 2
	}
	ctx, _, err := newContext("", nil)
	if err != nil {
		fmt.Fprintf(stderr, "tektoncheck -kubeapi: %v\n", err)
		return 2
	}
	api := &kubeAPI{cfg: cfg, ctx: ctx, runs: cfg.PipelineRuns, created: map[string]int{}}
	if cfg.Log != "" {
		api.log, err = os.OpenFile(cfg.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			fmt.Fprintf(stderr, "tektoncheck -kubeapi: %v\n", err)
			return 2
		}
	}
	listen := cfg.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fmt.Fprintf(stderr, "tektoncheck -kubeapi: %v\n", err)
		return 1
	}
	scheme := "http"
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			fmt.Fprintf(stderr, "tektoncheck -kubeapi: %v\n", err)
			return 2
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
		scheme = "https"
	}
	fmt.Fprintf(stdout, "listening on %s://%s\n", scheme, ln.Addr())
	if f, ok := stdout.(*os.File); ok {
		f.Sync()
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintf(stderr, "tektoncheck -kubeapi: %v\n", err)
		return 1
	}
	return 0
}

// status answers a Kubernetes Status object.
func status(w http.ResponseWriter, code int, reason, message string, details map[string]any) {
	s := map[string]any{"kind": "Status", "apiVersion": "v1", "metadata": map[string]any{},
		"status": "Failure", "message": message, "reason": reason, "code": code}
	if details != nil {
		s["details"] = details
	}
	answer(w, code, s)
}

func answer(w http.ResponseWriter, code int, body any) {
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b)
}

// rec is what the log line of a request holds; the handler fills it in.
type rec struct {
	Method   string         `json:"method"`
	Path     string         `json:"path"`
	Query    string         `json:"query"`
	Verb     string         `json:"verb"`
	Resource string         `json:"resource"`
	Status   int            `json:"status"`
	Object   map[string]any `json:"object,omitempty"`
}

type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) { r.code = code; r.ResponseWriter.WriteHeader(code) }

func (a *kubeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &recorder{ResponseWriter: w, code: 200}
	entry := rec{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	a.handle(rw, r, &entry)
	entry.Status = rw.code
	if a.log != nil {
		b, _ := json.Marshal(entry)
		a.mu.Lock()
		a.log.Write(append(b, '\n'))
		a.mu.Unlock()
	}
}

func (a *kubeAPI) handle(w http.ResponseWriter, r *http.Request, entry *rec) {
	// /apis/tekton.dev/v1/namespaces/NS/RESOURCE[/NAME]
	if !strings.HasPrefix(r.URL.Path, tektonPrefix) {
		status(w, 404, "NotFound", "the server could not find the requested resource", nil)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, tektonPrefix), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" {
		status(w, 404, "NotFound", "the server could not find the requested resource", nil)
		return
	}
	ns, resource, name := parts[0], parts[1], ""
	if len(parts) == 3 {
		name = parts[2]
	}
	verb := ""
	switch {
	case r.Method == http.MethodGet && name != "":
		verb = "get"
	case r.Method == http.MethodGet && r.URL.Query().Get("watch") == "true":
		verb = "watch"
	case r.Method == http.MethodGet:
		verb = "list"
	case r.Method == http.MethodPost && name == "":
		verb = "create"
	default:
		status(w, 405, "MethodNotAllowed", "the server does not allow this method on the requested resource", nil)
		return
	}
	entry.Verb, entry.Resource = verb, resource
	if resource != "pipelines" && resource != "pipelineruns" {
		status(w, 404, "NotFound", "the server could not find the requested resource", nil)
		return
	}
	// Authentication, then authorization, as the API server orders them.
	auth := r.Header.Get("Authorization")
	tok, ok := a.cfg.Tokens[strings.TrimPrefix(auth, "Bearer ")]
	if !strings.HasPrefix(auth, "Bearer ") || !ok {
		status(w, 401, "Unauthorized", "Unauthorized", nil)
		return
	}
	if !allowed(tok.Rules, verb, resource) {
		status(w, 403, "Forbidden", fmt.Sprintf(
			"%s.tekton.dev is forbidden: User %q cannot %s resource %q in API group \"tekton.dev\" in the namespace %q",
			resource, tok.User, verb, resource, ns),
			map[string]any{"group": "tekton.dev", "kind": resource})
		return
	}
	switch {
	case resource == "pipelines":
		a.getPipeline(w, ns, name)
	case verb == "get":
		a.getRun(w, ns, name)
	case verb == "list":
		a.listRuns(w, r, ns)
	case verb == "create":
		a.createRun(w, r, ns, entry)
	default:
		status(w, 405, "MethodNotAllowed", "watch is not served by this stand-in: poll", nil)
	}
}

func allowed(rules []kubeRule, verb, resource string) bool {
	has := func(list []string, v string) bool {
		for _, x := range list {
			if x == v || x == "*" {
				return true
			}
		}
		return false
	}
	for _, r := range rules {
		if has(r.APIGroups, "tekton.dev") && has(r.Resources, resource) && has(r.Verbs, verb) {
			return true
		}
	}
	return false
}

func (a *kubeAPI) getPipeline(w http.ResponseWriter, ns, name string) {
	for _, p := range a.cfg.Pipelines {
		if p == ns+"/"+name {
			answer(w, 200, map[string]any{"apiVersion": "tekton.dev/v1", "kind": "Pipeline",
				"metadata": map[string]any{"name": name, "namespace": ns}, "spec": map[string]any{}})
			return
		}
	}
	status(w, 404, "NotFound", fmt.Sprintf("pipelines.tekton.dev %q not found", name),
		map[string]any{"name": name, "group": "tekton.dev", "kind": "pipelines"})
}

func meta(obj map[string]any) map[string]any {
	m, _ := obj["metadata"].(map[string]any)
	if m == nil {
		m = map[string]any{}
		obj["metadata"] = m
	}
	return m
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

func (a *kubeAPI) getRun(w http.ResponseWriter, ns, name string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, run := range a.runs {
		m := meta(run)
		if str(m, "namespace") != ns || str(m, "name") != name {
			continue
		}
		key := ns + "/" + name
		if n, ok := a.created[key]; ok && len(a.cfg.Statuses) > 0 {
			i := n
			if i >= len(a.cfg.Statuses) {
				i = len(a.cfg.Statuses) - 1
			}
			run["status"] = a.cfg.Statuses[i]
			a.created[key] = n + 1
		}
		answer(w, 200, run)
		return
	}
	status(w, 404, "NotFound", fmt.Sprintf("pipelineruns.tekton.dev %q not found", name),
		map[string]any{"name": name, "group": "tekton.dev", "kind": "pipelineruns"})
}

func (a *kubeAPI) listRuns(w http.ResponseWriter, r *http.Request, ns string) {
	want := map[string]string{}
	if sel := r.URL.Query().Get("labelSelector"); sel != "" {
		for _, part := range strings.Split(sel, ",") {
			k, v, ok := strings.Cut(part, "=")
			if !ok || k == "" || strings.ContainsAny(k, "!") || strings.HasPrefix(v, "=") {
				status(w, 400, "BadRequest", fmt.Sprintf("unable to parse requirement: %q (this stand-in serves equality selectors only)", part), nil)
				return
			}
			want[k] = v
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	items := []map[string]any{}
	for _, run := range a.runs {
		m := meta(run)
		if str(m, "namespace") != ns {
			continue
		}
		labels, _ := m["labels"].(map[string]any)
		match := true
		for k, v := range want {
			if got, _ := labels[k].(string); got != v {
				match = false
			}
		}
		if match {
			items = append(items, run)
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		return str(meta(items[i]), "name") < str(meta(items[j]), "name")
	})
	answer(w, 200, map[string]any{"apiVersion": "tekton.dev/v1", "kind": "PipelineRunList",
		"metadata": map[string]any{"resourceVersion": "1"}, "items": items})
}

func (a *kubeAPI) createRun(w http.ResponseWriter, r *http.Request, ns string, entry *rec) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 3<<20))
	if err != nil {
		status(w, 400, "BadRequest", err.Error(), nil)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		status(w, 415, "UnsupportedMediaType", fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: application/json (got %q)", ct), nil)
		return
	}
	var obj map[string]any
	if err := json.Unmarshal(body, &obj); err != nil {
		status(w, 400, "BadRequest", "the object provided is not JSON: "+err.Error(), nil)
		return
	}
	entry.Object = obj
	m := meta(obj)
	if got := str(m, "namespace"); got != "" && got != ns {
		status(w, 400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request", nil)
		return
	}
	a.mu.Lock()
	a.serial++
	serial := a.serial
	a.mu.Unlock()
	name := str(m, "name")
	if name == "" && str(m, "generateName") != "" {
		prefix := str(m, "generateName")
		if len(prefix) > 58 {
			prefix = prefix[:58]
		}
		name = fmt.Sprintf("%s%05d", prefix, serial)
	}
	if name == "" {
		status(w, 422, "Invalid", "PipelineRun.tekton.dev \"\" is invalid: metadata.name: Required value: name or generateName is required", nil)
		return
	}
	m["name"], m["namespace"] = name, ns
	m["uid"] = fmt.Sprintf("00000000-0000-0000-0000-%012d", serial)
	m["creationTimestamp"] = time.Now().UTC().Format(time.RFC3339)
	fixed, _ := json.Marshal(obj)
	var pr v1.PipelineRun
	var problems []string
	strictErrs, err := sigsjson.UnmarshalStrict(fixed, &pr)
	if err != nil {
		problems = append(problems, err.Error())
	}
	for _, e := range strictErrs {
		problems = append(problems, "strict decoding error: "+e.Error())
	}
	if err == nil {
		if pr.APIVersion != "tekton.dev/v1" || pr.Kind != "PipelineRun" {
			problems = append(problems, fmt.Sprintf("apiVersion %q, kind %q: want tekton.dev/v1 PipelineRun", pr.APIVersion, pr.Kind))
		}
		pr.SetDefaults(a.ctx)
		problems = append(problems, flatten(pr.Validate(a.ctx))...)
	}
	if len(problems) > 0 {
		status(w, 422, "Invalid", fmt.Sprintf("PipelineRun.tekton.dev %q is invalid: %s", name, strings.Join(problems, "; ")),
			map[string]any{"name": name, "group": "tekton.dev", "kind": "PipelineRun"})
		return
	}
	a.mu.Lock()
	for _, run := range a.runs {
		if rm := meta(run); str(rm, "namespace") == ns && str(rm, "name") == name {
			a.mu.Unlock()
			status(w, 409, "AlreadyExists", fmt.Sprintf("pipelineruns.tekton.dev %q already exists", name), nil)
			return
		}
	}
	a.runs = append(a.runs, obj)
	a.created[ns+"/"+name] = 0
	a.mu.Unlock()
	answer(w, 201, obj)
}
