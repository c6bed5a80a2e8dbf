// Drives node-open311 against a Fengqiao node: discovery, services, a
// service definition, a request with attributes, and reading it back.
// Usage: node run.js BASE_URL API_KEY SERVICE ATTRIBUTE_CODE ATTRIBUTE_VALUE
const Open311 = require('open311');
const [base, key, service, attrCode, attrValue] = process.argv.slice(2);
const out = {};
const fail = (what, err, body) => { console.log(JSON.stringify({ error: what, detail: String(err), body: String(body) })); process.exit(1); };

const client = new Open311({ discovery: base + '/open311/v2/discovery.json', apiKey: key, jurisdiction: '511083' });
client.serviceDiscovery({ cache: true }, (err, data) => {
  if (err) return fail('discovery', err, data);
  out.discovery = data;
  out.endpoint = client.endpoint;
  client.serviceList((err, services) => {
    if (err) return fail('services', err, services);
    out.services = services;
    client.serviceDefinition(service, (err, def) => {
      if (err) return fail('definition', err, def);
      out.definition = def;
      const attributes = {};
      attributes[attrCode] = attrValue;
      client.submitRequest({ service_code: service, description: '外部客户端：路面塌陷', address_id: '511083001001001',
        first_name: '三', last_name: '张', phone: '13912345678', attributes }, (err, created) => {
        if (err) return fail('submit', err, created);
        out.created = created;
        const id = created[0].service_request_id;
        client.serviceRequests(id, (err, one) => {
          if (err) return fail('request', err, one);
          out.one = one;
          client.serviceRequests({ service_code: service, status: 'open' }, (err, list) => {
            if (err) return fail('requests', err, list);
            out.list = list.map(r => r.service_request_id);
            console.log(JSON.stringify(out));
          });
        });
      });
    });
  });
});
