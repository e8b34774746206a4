/**
 * Refreshes the team inbox's screenshots in docs/screenshots/ (inbox-*.png): starts a throwaway
 * server (embedded SQLite), makes a verified bakery with a team and a few customers who wrote,
 * then photographs the inbox (an agent's view with an internal note, on a desktop and a phone)
 * and the customer's side of the chat in Debian's Chromium. Run: `npm run screenshots:inbox`.
 */
import { startTestServer } from '../apps/server/test/harness.ts';
import { DESKTOP, PHONE, buildWebApp, launchBrowser, screenshot, signedIn } from '../e2e/browser.ts';

buildWebApp();
const server = await startTestServer({ dialect: 'sqlite' });
try {
  const bakery = await server.signUp('harbourbakery', { kind: 'business' });
  const omar = await server.signUp('omar');
  await server.signUp('nadia');
  await bakery.client.putBusinessMember('nadia', 'admin');
  await bakery.client.putBusinessMember('omar', 'agent');
  await bakery.client.updateBusiness({ display_name: 'Harbour Bakery' });
  await server.services.business.setVerified({ businessId: bakery.accountId, verified: true, by: bakery.accountId });
  const nadia = bakery.client.as((await server.anonymous.login({ handle: 'nadia', password: 'correct horse battery' })).token).forBusiness(bakery.accountId);
  const agent = omar.client.forBusiness(bakery.accountId);
  await agent.inbox.createCannedReply({ name: 'Opening hours', text: 'Hi {{handle}}, we are open every day from 7:00 to 19:00.' });

  const write = async (handle: string, texts: string[]) => {
    const person = await server.signUp(handle);
    const chat = await person.client.openDirect('harbourbakery');
    for (const text of texts) await person.client.send(chat.id, { text });
    return { person, chat };
  };
  await write('lena', ['Can I order a birthday cake for Saturday?']);
  const { chat: maria } = await write('maria_s', ['Hello! Do you have gluten-free bread?', 'And are you open on Sunday?']);
  await write('tom', ['Thanks, the croissants were perfect.']);
  await write('yusuf', ['Is the café wheelchair accessible?']);
  await agent.inbox.update(maria.id, { assignee_id: omar.accountId });
  await nadia.inbox.addNote(maria.id, 'Regular customer, coeliac: check the allergen sheet before answering.');
  await agent.inbox.reply(maria.id, { text: 'Hi maria_s! Yes, every morning from 8:00. We are open on Sunday from 8:00 to 14:00.' });
  const tomChat = (await agent.inbox.list({ q: 'tom' })).conversations[0]!;
  await agent.inbox.update(tomChat.conversation_id, { status: 'resolved' });

  const browser = await launchBrowser();
  try {
    const a = await signedIn(browser, server, omar, DESKTOP);
    await a.page.goto(`${server.url}/business/harbourbakery/inbox/${maria.id}`);
    await a.page.getByText('Regular customer, coeliac').waitFor();
    await a.page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
    await screenshot(a.page, 'inbox-desktop.png');
    const phone = await signedIn(browser, server, omar, PHONE);
    await phone.page.goto(`${server.url}/business/harbourbakery/inbox`);
    await phone.page.getByRole('link', { name: /@lena/ }).waitFor();
    await screenshot(phone.page, 'inbox-phone.png');
    const customer = await signedIn(browser, server, { ...omar, token: (await server.anonymous.login({ handle: 'maria_s', password: 'correct horse battery' })).token }, DESKTOP);
    await customer.page.goto(`${server.url}/chats/${maria.id}`);
    await customer.page.getByText('omar', { exact: false }).first().waitFor();
    await customer.page.getByRole('heading', { level: 2, name: /Harbour Bakery/ }).getByRole('img', { name: 'verified' }).waitFor();
    await screenshot(customer.page, 'inbox-customer-view.png');
    console.log('screenshots saved in docs/screenshots/');
  } finally {
    await browser.close();
  }
} finally {
  await server.close();
}
