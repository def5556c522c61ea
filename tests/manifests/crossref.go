package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
)

// crossReference checks what Tekton only checks at run time, when the
// PipelineRun reconciler has resolved the Tasks: it matches every Pipeline
// task that names a Task by taskRef.name (no resolver) against that Task in
// the same input, and every PipelineRun that names a Pipeline against that
// Pipeline. Rules marked "stricter than Tekton" are not Tekton errors (Tekton
// ignores them) but are almost always typos.
func (c *checker) crossReference() {
	for _, nt := range c.taskList {
		c.checkTaskVariables(nt.where, &nt.t.Spec, nil)
	}
	for _, np := range c.pipelines {
		p := np.p
		optional := map[string]bool{}
		for _, ws := range p.Spec.Workspaces {
			optional[ws.Name] = ws.Optional
		}
		specs := map[string]*v1.TaskSpec{} // pipeline task name -> resolved spec
		all := append(append([]v1.PipelineTask{}, p.Spec.Tasks...), p.Spec.Finally...)
		for i := range all {
			pt := &all[i]
			where := fmt.Sprintf("%s pipeline task %q", np.where, pt.Name)
			var ts *v1.TaskSpec
			switch {
			case pt.TaskSpec != nil:
				if pt.TaskSpec.IsCustomTask() {
					continue
				}
				ts = &pt.TaskSpec.TaskSpec
				// An embedded taskSpec may use propagated workspaces.
				var extra []string
				for _, ws := range p.Spec.Workspaces {
					extra = append(extra, ws.Name)
				}
				for _, b := range pt.Workspaces {
					extra = append(extra, b.Name)
				}
				c.checkTaskVariables(where, ts, extra)
			case pt.TaskRef != nil && pt.TaskRef.Resolver == "" && (pt.TaskRef.Kind == "" || pt.TaskRef.Kind == v1.NamespacedTaskKind) && pt.TaskRef.APIVersion == "":
				t := c.findTask(p.Namespace, pt.TaskRef.Name)
				if t == nil {
					c.errorf(where, "taskRef %q: no Task of that name in the input (pass the file that holds it, or -no-crossref)", pt.TaskRef.Name)
					continue
				}
				ts = &t.Spec
			default:
				continue // resolver, custom task, cluster task: not checkable offline
			}
			specs[pt.Name] = ts
			c.checkPipelineTask(where, pt, ts, optional)
		}
		// $(tasks.X.results.Y) in params, when expressions and pipeline results.
		for i := range all {
			pt := &all[i]
			where := fmt.Sprintf("%s pipeline task %q", np.where, pt.Name)
			for _, ref := range v1.PipelineTaskResultRefs(pt) {
				c.checkResultRef(where, ref, specs)
			}
		}
		for _, r := range p.Spec.Results {
			exprs, _ := r.GetVarSubstitutionExpressions()
			for _, ref := range v1.NewResultRefs(exprs) {
				c.checkResultRef(fmt.Sprintf("%s result %q", np.where, r.Name), ref, specs)
			}
		}
	}
	for _, nr := range c.runs {
		pr := nr.pr
		if pr.Spec.PipelineRef == nil || pr.Spec.PipelineRef.Resolver != "" || pr.Spec.PipelineRef.Name == "" {
			continue
		}
		var ps *v1.PipelineSpec
		for _, np := range c.pipelines {
			if np.p.Name == pr.Spec.PipelineRef.Name && (pr.Namespace == "" || np.p.Namespace == "" || np.p.Namespace == pr.Namespace) {
				ps = &np.p.Spec
				break
			}
		}
		if ps == nil {
			c.errorf(nr.where, "pipelineRef %q: no Pipeline of that name in the input (pass the file that holds it, or -no-crossref)", pr.Spec.PipelineRef.Name)
			continue
		}
		c.checkParams(nr.where, "pipeline", ps.Params, pr.Spec.Params, nil)
		declared := map[string]bool{}
		for _, ws := range ps.Workspaces {
			declared[ws.Name] = true
		}
		bound := map[string]bool{}
		for _, b := range pr.Spec.Workspaces {
			bound[b.Name] = true
			if !declared[b.Name] {
				c.errorf(nr.where, "workspace %q is bound but the Pipeline declares no such workspace (stricter than Tekton)", b.Name)
			}
		}
		for _, ws := range ps.Workspaces {
			if !ws.Optional && !bound[ws.Name] {
				c.errorf(nr.where, "pipeline requires workspace %q to be provided by the PipelineRun", ws.Name)
			}
		}
	}
}

func (c *checker) findTask(ns, name string) *v1.Task {
	if t, ok := c.tasks[ns+"/"+name]; ok {
		return t
	}
	if ns == "" { // Pipeline without namespace: accept a unique Task of that name
		var found *v1.Task
		for k, t := range c.tasks {
			if strings.HasSuffix(k, "/"+name) {
				if found != nil {
					return nil
				}
				found = t
			}
		}
		return found
	}
	return c.tasks["/"+name]
}

func (c *checker) checkPipelineTask(where string, pt *v1.PipelineTask, ts *v1.TaskSpec, pipelineOptional map[string]bool) {
	var matrixParams v1.Params
	if pt.Matrix != nil {
		matrixParams = append(matrixParams, pt.Matrix.Params...)
		for _, inc := range pt.Matrix.Include {
			matrixParams = append(matrixParams, inc.Params...)
		}
	}
	if pt.TaskRef != nil { // an embedded taskSpec may use propagated params
		c.checkParams(where, "task", ts.Params, pt.Params, matrixParams)
	}
	declared := map[string]v1.WorkspaceDeclaration{}
	for _, ws := range ts.Workspaces {
		declared[ws.Name] = ws
	}
	bound := map[string]bool{}
	for _, b := range pt.Workspaces {
		bound[b.Name] = true
		d, ok := declared[b.Name]
		if !ok {
			c.errorf(where, "workspace %q is bound but the Task declares no such workspace (stricter than Tekton)", b.Name)
			continue
		}
		if pipelineOptional[b.Workspace] && !d.Optional {
			c.errorf(where, "pipeline workspace %q is optional but the Task requires workspace %q", b.Workspace, b.Name)
		}
	}
	for _, ws := range ts.Workspaces {
		if !ws.Optional && !bound[ws.Name] {
			c.errorf(where, "the Task requires workspace %q but the pipeline task does not bind it", ws.Name)
		}
	}
}

// checkParams mirrors Tekton's run-time parameter checks: required params
// present, types matching (a string that is a whole $(...) reference may
// feed an array or object param), matrix params only for string params. It
// adds one rule of its own: a param that the callee does not declare.
func (c *checker) checkParams(where, callee string, specs v1.ParamSpecs, params, matrix v1.Params) {
	types := map[string]v1.ParamType{}
	for _, s := range specs {
		types[s.Name] = s.Type
	}
	provided := map[string]bool{}
	for _, p := range append(append(v1.Params{}, params...), matrix...) {
		provided[p.Name] = true
	}
	var missing []string
	for _, s := range specs {
		if s.Default == nil && !provided[s.Name] {
			missing = append(missing, s.Name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		c.errorf(where, "missing values for %s params which have no default: %s", callee, strings.Join(missing, ", "))
	}
	for _, p := range params {
		t, ok := types[p.Name]
		if !ok {
			c.errorf(where, "param %q is passed but the %s declares no such param (stricter than Tekton)", p.Name, callee)
			continue
		}
		if p.Value.Type == v1.ParamTypeString && t != v1.ParamTypeString && v1.VariableSubstitutionRegex.MatchString(p.Value.StringVal) {
			continue
		}
		if p.Value.Type != t {
			c.errorf(where, "param %q is a %s but the %s declares it as %s", p.Name, p.Value.Type, callee, t)
		}
	}
	for _, p := range matrix {
		t, ok := types[p.Name]
		if !ok {
			c.errorf(where, "matrix param %q: the %s declares no such param (stricter than Tekton)", p.Name, callee)
		} else if t != v1.ParamTypeString {
			c.errorf(where, "matrix param %q: the %s declares it as %s; matrix params must feed string params", p.Name, callee, t)
		}
	}
}

func (c *checker) checkResultRef(where string, ref *v1.ResultRef, specs map[string]*v1.TaskSpec) {
	ts, ok := specs[ref.PipelineTask]
	if !ok {
		return // unknown or not checkable offline; Validate() reports unknown task names
	}
	for _, r := range ts.Results {
		if r.Name == ref.Result {
			return
		}
	}
	c.errorf(where, "%q is not a result declared by the Task of pipeline task %q", ref.Result, ref.PipelineTask)
}

// taskVarRef matches $(workspaces.NAME.…) and $(results.NAME.…) in a Task.
var taskVarRef = regexp.MustCompile(`\$\((workspaces|results)\.([^.)\[\]]+)`)

// checkTaskVariables reports $(workspaces.X.…) and $(results.X.path) where
// the Task declares no workspace or result X (extraWorkspaces: names that an
// embedded taskSpec may get by propagation). Tekton's Validate accepts them
// and leaves them unsubstituted at run time (stricter than Tekton).
func (c *checker) checkTaskVariables(where string, ts *v1.TaskSpec, extraWorkspaces []string) {
	declared := map[string]map[string]bool{"workspaces": {}, "results": {}}
	for _, w := range extraWorkspaces {
		declared["workspaces"][w] = true
	}
	for _, w := range ts.Workspaces {
		declared["workspaces"][w.Name] = true
	}
	for _, r := range ts.Results {
		declared["results"][r.Name] = true
	}
	b, err := json.Marshal([]any{ts.Steps, ts.StepTemplate, ts.Sidecars, ts.Volumes})
	if err != nil {
		c.errorf(where, "%v", err)
		return
	}
	seen := map[string]bool{}
	for _, m := range taskVarRef.FindAllStringSubmatch(string(b), -1) {
		kind, name := m[1], m[2]
		if declared[kind][name] || seen[kind+"."+name] {
			continue
		}
		seen[kind+"."+name] = true
		c.errorf(where, "$(%s.%s...) refers to no declared %s (Tekton accepts it and leaves it unsubstituted; stricter than Tekton)", kind, name, strings.TrimSuffix(kind, "s"))
	}
}
