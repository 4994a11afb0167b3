// What the package kinds deliver (an access link, a ticket, a login, license keys, signed
// checksums), one box each: on the thank-you page and in the buyer's library, as in the e-mail.
import type { DeliveryPart } from '../../kinds';

export function KindParts(props: { parts: DeliveryPart[] }) {
  return (
    <>
      {props.parts.map((part) => (
        <div class="box part" data-kind={part.kind}>
          <h2>
            {part.title}: {part.packageName}
          </h2>
          <table>
            <tbody>
              {part.lines.map((line) => (
                <tr>
                  <th>{line.label}</th>
                  <td>
                    {line.url ? <a href={line.value}>{line.value}</a> : <code>{line.value}</code>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {part.note && <p class="muted">{part.note}</p>}
        </div>
      ))}
    </>
  );
}
