package model

// Bulletin units: what a 通报 ranks.
const (
	ByTownship   = "township"
	ByGrid       = "grid"
	ByDepartment = "department"
)

// BulletinUnits lists the units a bulletin may rank.
var BulletinUnits = []string{ByTownship, ByGrid, ByDepartment}

// BulletinRates lists the rates a bulletin ranks by, in the order ties are
// broken: 按期办结率, 结案率, 返工率 (lower is better), 延期率 (lower is
// better), 满意率.
var BulletinRates = []string{"on_time", "closure", "rework", "extension", "satisfaction"}

// Bulletin is a monthly 通报: a jurisdiction's units ranked by how they
// handled the events reported in a period, with the counts behind each
// rate.
type Bulletin struct {
	Jurisdiction string        `json:"jurisdiction"`
	Period       string        `json:"period"` // YYYYMM, China time
	By           string        `json:"by"`
	RankBy       string        `json:"rank_by"`
	Rows         []BulletinRow `json:"rows"`
	Total        BulletinRow   `json:"total"`
}

// BulletinRow is one unit's line of a bulletin.
type BulletinRow struct {
	Rank int    `json:"rank"`
	Unit string `json:"unit"` // a township or grid code, or a handler identity
	Name string `json:"name"`
	// Counts: reported in the period; Counted leaves out the rejected and
	// merged; Closed of those; ClosedInTime by their deadline (as
	// extended); Reworked sent back by 核查 or reopened by 回访; Extended
	// given more time; Rated and Satisfied at 回访.
	Reported     int64 `json:"reported"`
	Counted      int64 `json:"counted"`
	Closed       int64 `json:"closed"`
	ClosedInTime int64 `json:"closed_in_time"`
	Reworked     int64 `json:"reworked"`
	Extended     int64 `json:"extended"`
	Rated        int64 `json:"rated"`
	Satisfied    int64 `json:"satisfied"`
	// Rates: 按期办结率 = ClosedInTime/Closed, 结案率 = Closed/Counted,
	// 返工率 = Reworked/Counted, 延期率 = Extended/Counted, 满意率 =
	// Satisfied/Rated (0 when the count below is 0).
	OnTimeRate       float64 `json:"on_time_rate"`
	ClosureRate      float64 `json:"closure_rate"`
	ReworkRate       float64 `json:"rework_rate"`
	ExtensionRate    float64 `json:"extension_rate"`
	SatisfactionRate float64 `json:"satisfaction_rate"`
}
