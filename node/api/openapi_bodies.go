package api

import (
	"github.com/fengqiao/fengqiao/core"
	"github.com/fengqiao/fengqiao/core/model"
	"github.com/fengqiao/fengqiao/core/state"
	"github.com/fengqiao/fengqiao/core/workcal"
	"github.com/fengqiao/fengqiao/node/export"
	"github.com/fengqiao/fengqiao/plugins/host"
)

// body is what a route takes and answers, described by Go values of the
// types its handler decodes and encodes, for the OpenAPI document.
type body struct {
	in     any      // the JSON request body; nil: none
	out    any      // the JSON response body; nil: none (204)
	status int      // the success status; 0: 200
	media  string   // the response's media type when not JSON
	form   bool     // the request is form-encoded (Open311)
	noBody bool     // a POST that takes no body: the path says it all
	upload []string // the request is a file of one of these media types
}

// bodies has an entry for every route: TestOpenAPIDescribesEveryRoute
// fails for a route without one.
var bodies = map[string]body{
	"health":               {out: statusView{}},
	"listPlugins":          {out: pluginsView{}},
	"registerPlugin":       {in: host.Registration{}, out: model.PluginVersion{}, status: 201},
	"getPlugin":            {out: pluginView{}},
	"enablePlugin":         {in: enableRequest{}, out: model.PluginActive{}},
	"disablePlugin":        {status: 204, noBody: true},
	"pluginGet":            {out: map[string]any{}},
	"pluginPost":           {out: map[string]any{}},
	"pluginPut":            {out: map[string]any{}},
	"pluginPatch":          {out: map[string]any{}},
	"pluginDelete":         {out: map[string]any{}},
	"ready":                {out: statusView{}},
	"openapi":              {out: map[string]any{}},
	"getJurisdiction":      {out: jurisdictionView{}},
	"loadDivisions":        {in: loadDivisionsRequest{}, out: loadedView{}},
	"listGrids":            {out: featureCollection{}},
	"createGrid":           {in: gridInput{}, out: feature{}, status: 201},
	"locateGrid":           {out: feature{}},
	"getGrid":              {out: feature{}},
	"updateGrid":           {in: gridInput{}, out: feature{}},
	"retireGrid":           {in: retireRequest{}, out: feature{}},
	"assignWorker":         {in: assignRequest{}, out: feature{}},
	"removeWorker":         {out: feature{}},
	"putWorker":            {in: model.Worker{}, out: model.Worker{}},
	"listCategories":       {out: categoriesView{}},
	"addCategory":          {in: categoryInput{}, out: model.Category{}, status: 201},
	"listWebhooks":         {out: webhooksView{}},
	"putWebhook":           {in: webhookRequest{}, out: issuedWebhookView{}, status: 201},
	"deleteWebhook":        {status: 204},
	"webhookDeliveries":    {out: deliveriesPage{}},
	"getOpen311Config":     {out: model.Open311Config{}},
	"setOpen311Config":     {in: model.Open311Config{}, out: model.Open311Config{}},
	"getSLA":               {out: model.SLAConfig{}},
	"setSLA":               {in: model.SLAConfig{}, out: model.SLAConfig{}},
	"getCalendar":          {out: workcal.Calendar{}},
	"setCalendar":          {in: workcal.Calendar{}, out: workcal.Calendar{}},
	"reportEvent":          {in: model.Report{}, out: model.Event{}, status: 201},
	"listEvents":           {out: model.Page{}},
	"importPeople":         {upload: []string{export.ContentType(export.XLSX), "text/csv"}, media: "application/x-ndjson"},
	"importHouses":         {upload: []string{export.ContentType(export.XLSX), "text/csv"}, media: "application/x-ndjson"},
	"exportFigures":        {media: export.ContentType(export.XLSX)},
	"bulletin":             {out: model.Bulletin{}},
	"exportBulletin":       {media: export.ContentType(export.XLSX)},
	"exportEvents":         {media: export.ContentType(export.XLSX)},
	"exportPeople":         {media: export.ContentType(export.XLSX)},
	"getEvent":             {out: eventView{}},
	"uploadAttachment":     {upload: model.AttachmentMedia, out: attachmentView{}, status: 201},
	"getAttachment":        {media: "application/octet-stream"},
	"eventContact":         {out: model.Contact{}},
	"actOnEvent":           {in: model.Action{}, out: eventView{}},
	"getStats":             {out: stats{}},
	"listPeople":           {out: peoplePage{}},
	"addPerson":            {in: model.PersonInput{}, out: model.Person{}, status: 201},
	"getPerson":            {out: personView{}},
	"lookupPerson":         {in: lookupRequest{}, out: personView{}},
	"setSpecial":           {in: model.SpecialInput{}, out: model.Person{}},
	"updatePerson":         {in: model.PersonPatch{}, out: personView{}},
	"transferPerson":       {in: model.Transfer{}, out: personView{}},
	"listHouses":           {out: housesPage{}},
	"addHouse":             {in: model.House{}, out: model.House{}, status: 201},
	"getHouse":             {out: houseView{}},
	"updateHouse":          {in: model.HousePatch{}, out: model.House{}},
	"retireHouse":          {in: retireRequest{}, out: model.House{}},
	"listVisits":           {out: visitsPage{}},
	"recordVisit":          {in: model.VisitInput{}, out: model.Visit{}, status: 201},
	"listOrgs":             {out: orgsPage{}},
	"putOrg":               {in: model.Org{}, out: model.Org{}},
	"listMembers":          {out: partyMembersPage{}},
	"listActivities":       {out: partyActivitiesPage{}},
	"putMember":            {in: model.Member{}, out: model.Member{}},
	"recordActivity":       {in: model.Activity{}, out: model.Activity{}, status: 201},
	"partyCoverage":        {out: coverageView{}},
	"listTokens":           {out: tokensPage{}},
	"listStaffTokens":      {out: tokensPage{}},
	"createStaffToken":     {in: createTokenRequest{}, out: issuedTokenView{}, status: 201},
	"revokeStaffToken":     {status: 204},
	"createToken":          {in: createTokenRequest{}, out: issuedTokenView{}, status: 201},
	"revokeToken":          {status: 204},
	"splitRoles":           {in: struct{}{}, out: splitView{}},
	"tidyTokens":           {in: tidyTokensRequest{}, out: removedView{}},
	"open311Services":      {out: []o311Service{}},
	"open311ServicesXML":   {media: "text/xml"},
	"open311Service":       {out: o311Definition{}},
	"open311Discovery":     {out: o311Discovery{}},
	"open311DiscoveryXML":  {media: "text/xml"},
	"open311CreateXML":     {form: true, media: "text/xml", status: 201},
	"open311ListXML":       {media: "text/xml"},
	"open311Create":        {form: true, out: []open311Created{}, status: 201},
	"open311List":          {out: []o311Request{}},
	"open311Get":           {out: []o311Request{}},
	"listPeers":            {out: peersView{}},
	"addPeer":              {in: addPeerRequest{}, status: 204},
	"removePeer":           {status: 204},
	"stateDigest":          {out: digestView{}},
	"transferLeader":       {in: transferLeaderRequest{}, status: 204},
	"listCases":            {out: casesPage{}},
	"openCase":             {in: openCaseRequest{}, out: caseView{}, status: 201},
	"getCase":              {out: caseView{}},
	"updateCase":           {in: updateCaseRequest{}, out: caseView{}},
	"listCaseEntries":      {out: caseEntriesPage{}},
	"addCaseEntry":         {in: addCaseEntryRequest{}, out: model.CaseEntry{}, status: 201},
	"federationMembers":    {out: membersView{}},
	"federationLinks":      {out: linksView{}},
	"listChanges":          {out: model.ChangePage{}},
	"listAudit":            {out: auditPage{}},
	"verifyAudit":          {out: state.VerifyReport{}},
	"verifyAuditWitnessed": {in: verifyWitnessedRequest{}, out: witnessedView{}},
	"listWitnesses":        {out: witnessesPage{}},
	"sealCensus":           {out: state.SealCensus{}},
	"reseal":               {in: resealRequest{}, out: core.ResealResult{}},
	"backup":               {media: "application/octet-stream"},
	"restore":              {out: core.BackupCheck{}},
}
