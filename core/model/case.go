package model

import "time"

// Case statuses.
var CaseStatuses = []string{"open", "in_progress", "resolved", "closed"}

// Case is one cross-region case as this participant holds it.
type Case struct {
	ID           string      `json:"id"`
	Title        string      `json:"title"`
	Description  string      `json:"description"`
	Lead         string      `json:"lead"`
	LeadEpoch    uint64      `json:"lead_epoch"`
	Participants []string    `json:"participants"`
	Status       string      `json:"status"`
	StatusVer    uint64      `json:"status_ver"` // lead epoch << 32 | changes in that epoch
	OpenedAt     time.Time   `json:"opened_at"`
	Entries      []CaseEntry `json:"entries,omitempty"` // filled on read, in HLC order
}

// CaseEntry is one timeline entry of a case.
type CaseEntry struct {
	ID     string    `json:"id"`     // author/command id: unique across the federation
	Author string    `json:"author"` // the jurisdiction that wrote it
	Actor  string    `json:"actor"`
	Text   string    `json:"text"`
	HLC    uint64    `json:"hlc"`
	At     time.Time `json:"at"` // the HLC's physical part
}

// Others are the participants but this one.
func (cs *Case) Others(self string) []string {
	var out []string
	for _, p := range cs.Participants {
		if p != self {
			out = append(out, p)
		}
	}
	return out
}
