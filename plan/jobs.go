package plan

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/internal/redact"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/jenkins"
	"github.com/cloudsmith-oidc/jenkins-cloudsmith-oidc/render"
)

// planJobs compares every desired job with the controller's, reading the
// config.xml of each desired job that exists (in parallel), and finds the
// managed jobs to prune.
func planJobs(ctx context.Context, in Input, opt Options, p *Plan, actual map[string]jenkins.Item, secrets []string) (
	changes []Change, unchanged int, conflicts []string, err error) {

	me := in.Spec.Identity()
	var existing []render.Job
	for _, j := range in.Output.Jobs {
		it, ok := actual[j.Name]
		if !ok {
			changes = append(changes, Change{Action: Create, Kind: KindJob, Name: j.Name, Config: j.ConfigXML,
				Reason: "new " + j.Type + " job"})
			continue
		}
		if it.Folder {
			conflicts = append(conflicts, fmt.Sprintf("%q is a folder but the spec defines a %s job there: rename the job in the spec or delete the folder",
				j.Name, j.Type))
			continue
		}
		o, owner := ownershipOf(it.Description, me)
		if ok, conflict := takeOver(o, owner, opt, fmt.Sprintf("job %q", j.Name)); !ok {
			if o == handMade {
				c, lost, err := lostMarker(ctx, in.Jenkins, j, secrets)
				if err != nil {
					return nil, 0, nil, err
				}
				if lost {
					changes = append(changes, c)
					continue
				}
			}
			conflicts = append(conflicts, conflict)
			continue
		}
		existing = append(existing, j)
	}

	diffs, err := compareJobs(ctx, in.Jenkins, existing, opt.Parallel, secrets)
	if err != nil {
		return nil, 0, nil, err
	}
	for i, j := range existing {
		d := diffs[i]
		switch {
		case d.same:
			unchanged++
		case d.oldRoot != d.newRoot:
			changes = append(changes, Change{Action: Replace, Kind: KindJob, Name: j.Name, Config: j.ConfigXML,
				Reason: fmt.Sprintf("job type changes (%s → %s): Jenkins cannot change it in place, so the job and its build history are deleted and re-created",
					typeName(d.oldRoot), typeName(d.newRoot)), Diff: d.diff})
		default:
			reason := "config differs from the spec"
			switch o, owner := ownershipOf(actual[j.Name].Description, me); o {
			case handMade:
				reason = "adopted: " + reason
			case ownerless:
				reason = "claimed for spec " + me + " (owner-less marker of an older jenkins-cloudsmith): " + reason
			case theirs:
				reason = "moved from spec " + owner + ": " + reason
			}
			changes = append(changes, Change{Action: Update, Kind: KindJob, Name: j.Name, Config: j.ConfigXML,
				Reason: reason, Diff: d.diff})
		}
	}

	if opt.Prune {
		var items []jenkins.Item
		for _, it := range actual {
			items = append(items, it)
		}
		prune, warnings := planPrune(in, items)
		changes = append(changes, prune...)
		p.Warnings = append(p.Warnings, warnings...)
	}
	return changes, unchanged, conflicts, nil
}

// planPrune lists the jobs this spec owns that it no longer defines. Only
// the marker naming this spec's id makes a job prunable: a job made by
// hand, or owned by another spec, is never deleted. Jobs with the
// owner-less marker of older versions are left too, with a warning: any
// spec could have made them.
func planPrune(in Input, items []jenkins.Item) ([]Change, []string) {
	me := in.Spec.Identity()
	desired := make(map[string]bool, len(in.Output.Jobs))
	for _, j := range in.Output.Jobs {
		desired[j.Name] = true
	}
	var prune, orphans []string
	for _, it := range items {
		if it.Folder || desired[it.FullName] {
			continue
		}
		switch o, _ := ownershipOf(it.Description, me); o {
		case ours:
			prune = append(prune, it.FullName)
		case ownerless:
			orphans = append(orphans, it.FullName)
		}
	}
	sort.Strings(prune)
	var changes []Change
	for _, name := range prune {
		changes = append(changes, Change{Action: Delete, Kind: KindJob, Name: name,
			Reason: "owned by spec " + me + " and no longer in it"})
	}
	var warnings []string
	if len(orphans) > 0 {
		sort.Strings(orphans)
		warnings = append(warnings, fmt.Sprintf("not pruned: %s carry the owner-less marker of an older jenkins-cloudsmith, so no spec can tell they are its own; apply the spec that defines them to claim them, or delete them by hand",
			strings.Join(orphans, ", ")))
	}
	return changes, warnings
}

// lostMarker recognises a job of this spec whose description was edited
// in Jenkins (the UI's "Edit description" replaces the whole text, marker
// included): everything but the description is exactly what the spec
// renders, which no hand-made job is. It is planned as an update that
// restores the description, so `plan --detailed-exitcode` reports drift
// (2) rather than an error (1).
func lostMarker(ctx context.Context, j Jenkins, job render.Job, secrets []string) (Change, bool, error) {
	have, err := j.JobConfig(ctx, job.Name)
	if err != nil {
		return Change{}, false, fmt.Errorf("read config of job %q: %w", job.Name, err)
	}
	haveDesc, wantDesc := configDescription(have), configDescription(job.ConfigXML)
	nh, err := jenkins.NormalizeConfig(have)
	if err != nil {
		return Change{}, false, nil
	}
	nw, err := jenkins.NormalizeConfig(job.ConfigXML)
	if err != nil {
		return Change{}, false, fmt.Errorf("rendered config.xml of job %q: %w", job.Name, err)
	}
	descElement := func(d string) []byte {
		var b bytes.Buffer
		b.WriteString("<description>")
		_ = xml.EscapeText(&b, []byte(d))
		b.WriteString("</description>")
		n, _ := jenkins.NormalizeConfig(b.Bytes())
		return n
	}
	if !bytes.Equal(nh, bytes.Replace(nw, descElement(wantDesc), descElement(haveDesc), 1)) {
		return Change{}, false, nil
	}
	d, err := compareConfig(job.Name, have, job.ConfigXML, secrets)
	if err != nil {
		return Change{}, false, err
	}
	return Change{Action: Update, Kind: KindJob, Name: job.Name, Config: job.ConfigXML, Diff: d.diff,
		Reason: "description edited in Jenkins, which removed the jenkins-cloudsmith marker: apply restores the spec's description " +
			"(to keep the new text, put it in the job's description in the spec)"}, true, nil
}

type jobDiff struct {
	same             bool
	oldRoot, newRoot string
	diff             string
}

// compareJobs reads each job's config.xml with at most parallel requests in
// flight and compares it with the desired one after normalising both.
func compareJobs(ctx context.Context, j Jenkins, jobs []render.Job, parallel int, secrets []string) ([]jobDiff, error) {
	out := make([]jobDiff, len(jobs))
	errs := make([]error, len(jobs))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(parallel, len(jobs)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i], errs[i] = compareJob(ctx, j, jobs[i], secrets)
				if errs[i] != nil {
					cancel()
				}
			}
		}()
	}
feed:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	// Report the first real error, not the cancellations it caused.
	var first error
	for _, err := range errs {
		if err != nil && !errors.Is(err, context.Canceled) {
			return nil, err
		}
		if err != nil && first == nil {
			first = err
		}
	}
	if first == nil {
		first = ctx.Err()
	}
	if first != nil {
		return nil, first
	}
	return out, nil
}

func compareJob(ctx context.Context, j Jenkins, job render.Job, secrets []string) (jobDiff, error) {
	have, err := j.JobConfig(ctx, job.Name)
	if err != nil {
		return jobDiff{}, fmt.Errorf("read config of job %q: %w", job.Name, err)
	}
	return compareConfig(job.Name, have, job.ConfigXML, secrets)
}

// SameConfig reports whether a job's config.xml in Jenkins is the desired
// one once normalised, and whether at least the job type matches.
func SameConfig(have, want []byte) (same, sameType bool, err error) {
	d, err := compareConfig("", have, want, nil)
	return d.same, d.oldRoot == d.newRoot, err
}

// ConfigOwner reads the managed marker at the end of a job's config.xml
// description: managed reports whether there is one, owner the spec id it
// names ("" for the owner-less marker).
func ConfigOwner(config []byte) (owner string, managed bool) {
	return render.Owner(configDescription(config))
}

// configDescription is the text of the document element's description.
func configDescription(config []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(jenkins.StripDeclaration(config)))
	depth := 0
	var desc []byte
	in := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return string(desc)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			in = depth == 2 && t.Name.Local == "description"
		case xml.EndElement:
			if in {
				return string(desc)
			}
			depth--
		case xml.CharData:
			if in {
				desc = append(desc, t...)
			}
		}
	}
}

// compareConfig compares a job's current config.xml with the desired one,
// ignoring what Jenkins rewrites on save, and returns a readable diff with
// secrets masked when they differ.
func compareConfig(name string, have, want []byte, secrets []string) (jobDiff, error) {
	nw, err := jenkins.NormalizeConfig(want)
	if err != nil {
		return jobDiff{}, fmt.Errorf("rendered config.xml of job %q: %w", name, err)
	}
	nh, err := jenkins.NormalizeConfig(have)
	if err != nil {
		// A managed job whose config Jenkins holds in a form we cannot
		// parse is simply different: the update overwrites it (and
		// Jenkins itself refuses if the type differs).
		nh = have
	}
	d := jobDiff{oldRoot: rootElement(nh), newRoot: rootElement(nw)}
	if d.oldRoot == "" {
		d.oldRoot = d.newRoot
	}
	if bytes.Equal(nh, nw) {
		d.same = true
		return d, nil
	}
	text := Unified("jenkins/"+name+"/config.xml", "spec/"+name+"/config.xml", indentXML(nh), indentXML(nw), 3)
	d.diff = redact.String(text, secrets...)
	return d, nil
}

// rootElement names the document element: project (freestyle),
// flow-definition (pipeline), and so on.
func rootElement(doc []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(jenkins.StripDeclaration(doc)))
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local
		}
	}
}

func typeName(root string) string {
	switch root {
	case "project":
		return "freestyle"
	case "flow-definition":
		return "pipeline"
	case "":
		return "unknown"
	}
	return root
}

// indentXML re-indents a document one element per line so that a diff
// points at the element that changed. Text is escaped only where XML needs
// it (& and <), so scripts stay readable; on a parse error the input is
// returned as is.
func indentXML(doc []byte) string {
	doc = jenkins.StripDeclaration(doc)
	dec := xml.NewDecoder(bytes.NewReader(doc))
	dec.Strict = false
	var b strings.Builder
	depth := 0
	open := false // a start tag was written and may still close as <x/>
	text := false // the current element has text content
	indent := func() {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat("  ", depth))
	}
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return string(doc)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if open {
				b.WriteByte('>')
			}
			if b.Len() > 0 {
				indent()
			}
			b.WriteString("<" + qname(t.Name))
			for _, a := range t.Attr {
				b.WriteString(" " + qname(a.Name) + `="` + escText(a.Value, true) + `"`)
			}
			open, text = true, false
			depth++
		case xml.EndElement:
			depth--
			switch {
			case open:
				b.WriteString("/>")
			case text:
				b.WriteString("</" + qname(t.Name) + ">")
			default:
				indent()
				b.WriteString("</" + qname(t.Name) + ">")
			}
			open, text = false, false
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
			if open {
				b.WriteByte('>')
				open = false
			}
			b.WriteString(escText(string(t), false))
			text = true
		case xml.Comment:
			if open {
				b.WriteByte('>')
				open = false
			}
			indent()
			b.WriteString("<!--" + string(t) + "-->")
		}
	}
	return b.String() + "\n"
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

func escText(s string, attr bool) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;")
	if attr {
		r = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;")
	}
	return r.Replace(s)
}
