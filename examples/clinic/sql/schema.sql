-- Reporting tables kept outside the ORM.
CREATE TABLE invoices (
    id bigserial PRIMARY KEY,
    organization_id bigint NOT NULL REFERENCES clinic_organization (id),
    total_cents integer NOT NULL
);
