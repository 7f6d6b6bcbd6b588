package plan

// SchemaVersion is the version of the JSON plan format (internal/views
// writes it). It changes only
// when a field changes meaning or disappears; new fields may be added.
const SchemaVersion = 1

// Summary counts changes by action.
type Summary struct {
	Install          int  `json:"install"`
	Create           int  `json:"create"`
	Update           int  `json:"update"`
	Replace          int  `json:"replace"`
	Delete           int  `json:"delete"`
	UnchangedJobs    int  `json:"unchanged_jobs"`
	UnchangedFolders int  `json:"unchanged_folders"`
	RotatesKey       bool `json:"rotates_key"`
}

// Summarize counts p's changes.
func (p *Plan) Summarize() Summary {
	s := Summary{UnchangedJobs: p.UnchangedJobs, UnchangedFolders: p.UnchangedFolders, RotatesKey: p.RotatesKey()}
	for _, c := range p.Changes {
		switch c.Action {
		case Install:
			s.Install++
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Replace:
			s.Replace++
		case Delete:
			s.Delete++
		}
	}
	return s
}
